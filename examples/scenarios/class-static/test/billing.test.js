import { describe, expect, test } from 'vitest'
import { Customer, Invoice, Model } from '../src/model.js'

// Creates records through the models; nothing resets the identity map (the fix: afterEach(() => Model.reset())).
describe('billing', () => {
  for (let t = 0; t < 3; t++) {
    test(`creates invoices ${t}`, () => {
      const customer = new Customer('billing-' + t, { name: 'billing customer ' + t })
      for (let i = 0; i < 3000; i++) {
        const invoice = new Invoice(`billing-${t}-${i}`, { customer: customer.id, lines: [{ amount: 100 + i }, { amount: 250 }] })
        expect(invoice.total).toBe(350 + i)
      }
      expect(Model.find('Invoice:billing-' + t + '-0')).not.toBeNull()
    })
  }
})
