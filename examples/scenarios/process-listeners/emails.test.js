import { describe, expect, test } from 'vitest'
import { JobQueue } from './src/job-queue.js'

const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

// Every test registers a process 'exit' listener that closes over its queue and never removes it
// (the fix: keep the returned listener and process.removeListener('exit', it) in afterEach).
describe('emails queue', () => {
  for (let t = 0; t < 3; t++) {
    test(`flushes on exit ${t}`, async () => {
      const queue = new JobQueue('emails-' + t, 3000)
      queue.flushOnExit()
      expect(queue.jobs).toHaveLength(3000)
      await pause(600)
    })
  }
})
