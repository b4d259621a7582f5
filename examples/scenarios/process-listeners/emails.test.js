import { describe, expect, test } from 'vitest'
import { JobQueue } from './src/job-queue.js'

// Every test registers a process 'exit' listener that closes over its queue and never removes it
// (the fix: keep the returned listener and process.removeListener('exit', it) in afterEach).
describe('emails queue', () => {
  for (let t = 0; t < 3; t++) {
    test(`flushes on exit ${t}`, () => {
      const queue = new JobQueue('emails-' + t, 6000)
      queue.flushOnExit()
      expect(queue.jobs).toHaveLength(6000)
    })
  }
})
