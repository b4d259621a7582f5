import { describe, expect, test } from 'vitest'
import { MetricsPoller } from './src/metrics.js'

const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

// Each test starts a poller (a setInterval that holds its samples) and never stops it
// (the fix: poller.stop() — clearInterval — in afterEach).
describe('queue metrics', () => {
  for (let t = 0; t < 3; t++) {
    test(`polls ${t}`, async () => {
      const poller = new MetricsPoller('queue-' + t)
      await pause(250)
      expect(poller.samples.length).toBeGreaterThan(5000)
    })
  }
})
