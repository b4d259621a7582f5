import { describe, expect, test } from 'vitest'
import { openTestDb } from './src/db.js'

// Each test opens an in-memory database and never closes it (the fix: db.close() — closeAll() —
// in afterEach). The handle keeps the native SQLite memory and the rows loaded through it.
describe('invoices table', () => {
  for (let t = 0; t < 3; t++) {
    test(`loads customers ${t}`, () => {
      const h = openTestDb('invoices-' + t, 4000)
      expect(h.customers).toHaveLength(4000)
    })
  }
})
