import { describe, expect, test } from 'vitest'
import { orderTotals, placeOrder } from '../src/projections.js'

// Each test subscribes a projection to the bus and never unsubscribes
// (the fix: keep the handle and call unsubscribe() — bus.off — in afterEach).
describe('wishlist totals', () => {
  for (let t = 0; t < 3; t++) {
    test(`projects orders ${t}`, () => {
      const totals = orderTotals()
      for (let i = 0; i < 800; i++) {
        placeOrder(`wishlist-${t}-${i}`, [
          { sku: 'sku-' + (i % 17), qty: 1 + (i % 3), price: 250 },
          { sku: 'sku-' + (i % 11), qty: 2, price: 990 },
        ])
      }
      expect(totals.rows.length).toBeGreaterThanOrEqual(1000)
    })
  }
})
