import { describe, expect, test } from 'vitest'
import { placeOrder } from '../src/ledger.js'
import { rules, runAll } from '../src/generated/report-00.js'

// Two causes in one shared worker: each file loads its own large report module (module-graph
// retention under isolate=false) and records orders in the ledger that nothing clears
// (the fix for that one: afterEach(clearLedger) — orders.length = 0).
describe('report 00', () => {
  test('runs its rules', () => {
    expect(runAll('report-00')).toHaveLength(rules.length)
  })

  test('places orders', () => {
    for (let i = 0; i < 5000; i++) {
      const order = placeOrder(`r00-${i}`, `customer-${i % 97}`, [{ sku: 'sku-' + (i % 13), qty: 1 + (i % 4), price: 1299 }])
      expect(order.total).toBeGreaterThan(0)
    }
  })
})
