import { describe, expect, test } from 'vitest'
import { balance, entryCount, post } from '../src/ledger.js'

// Posts 1,500 entries per test and never resets the ledger (the fix: afterEach(resetLedger)).
describe('disputes', () => {
  for (let t = 0; t < 3; t++) {
    test(`batch ${t}`, async () => {
      const before = entryCount()
      for (let i = 0; i < 1500; i++) post(`disputes-${t}-${i % 50}`, 100 + i, `disputes posting ${t}/${i}`.padEnd(600, '.'))
      expect(entryCount()).toBe(before + 1500)
      expect(balance('disputes-' + t + '-0')).toBeGreaterThan(0)
      await new Promise((resolve) => setTimeout(resolve, 250)) // an I/O wait, as real tests have
    })
  }
})
