import { describe, expect, test } from 'vitest'
import { createPool } from '../src/pool.js'

// Each test opens a pool (registering an 'abort' listener on the shutdown signal) and never closes it
// (the fix: pool.close() in afterEach — removeEventListener on the signal).
describe('analytics repository', () => {
  for (let t = 0; t < 3; t++) {
    test(`queries ${t}`, () => {
      const pool = createPool('analytics-' + t, 2000)
      expect(pool.query('select 1').rows).toBe(2000)
    })
  }
})
