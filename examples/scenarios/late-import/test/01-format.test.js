import { describe, expect, test } from 'vitest'
import { money, slug } from '../src/format.js'

// Uses only the formatting helpers (the ledger module is not loaded yet); what it builds is released.
describe('format', () => {
  for (let t = 0; t < 3; t++) {
    test(`case ${t}`, async () => {
      const rows = []
      for (let i = 0; i < 20000; i++) rows.push({ id: i, text: slug(`Row ${t} ${i} ${money(i * 7)}`) })
      expect(rows[12].text).toBe(slug(`Row ${t} 12 ${money(84)}`))
      await new Promise((resolve) => setTimeout(resolve, 250)) // an I/O wait, as real tests have
    })
  }
})
