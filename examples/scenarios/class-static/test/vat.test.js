import { describe, expect, test } from 'vitest'
import { Customer, Invoice, Model } from '../src/model.js'

// Creates records through the models; nothing resets the identity map (the fix: afterEach(() => Model.reset())).
describe('vat', () => {
  for (let t = 0; t < 3; t++) {
    test(`creates invoices ${t}`, () => {
      const customer = new Customer('vat-' + t, { name: 'vat customer ' + t })
      for (let i = 0; i < 3000; i++) {
        const invoice = new Invoice(`vat-${t}-${i}`, { customer: customer.id, lines: [{ amount: 100 + i }, { amount: 250 }] })
        expect(invoice.total).toBe(350 + i)
      }
      expect(Model.find('Invoice:vat-' + t + '-0')).not.toBeNull()
    })
  }
})
