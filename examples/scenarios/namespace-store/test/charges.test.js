import { describe, expect, test } from 'vitest'
import * as store from '../src/store.js'
import { charge, refund } from '../src/billing.js'

// Reads the store through its namespace and never resets it (the fix: afterEach(() => store.resetStore())).
describe('charges', () => {
  for (let t = 0; t < 4; t++) {
    test(`batch ${t}`, () => {
      const before = store.auditTrail.length
      for (let i = 0; i < 1200; i++) (i % 4 ? charge : refund)(`charges-${t}-${i}`, 100 + i)
      expect(store.auditTrail.length).toBe(before + 1200)
      expect(store.eventsFor('invoice-charges-' + t + '-7')).toHaveLength(1)
    })
  }
})
