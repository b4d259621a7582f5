import { afterEach, describe, expect, test } from 'vitest'
import { buildReport } from './src/report.js'

// Allocates tens of MB per test and lets all of it go: no module-level state, nothing registered.
describe('daily report', () => {
  let report
  afterEach(() => { report = undefined })

  for (let t = 0; t < 3; t++) {
    test(`builds ${t}`, () => {
      report = buildReport('daily-' + t, 20000)
      expect(report.rows).toBe(20000)
    })
  }
})
