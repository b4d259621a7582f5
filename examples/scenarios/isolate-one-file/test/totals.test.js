import { describe, expect, test } from 'vitest'
import { money, slug } from '../src/format.js'

describe('totals formatting', () => {
  for (let t = 0; t < 4; t++) {
    test(`formats ${t}`, () => {
      const rows = Array.from({ length: 20_000 }, (_, i) => ({ cents: i * 37 - 5000, title: `totals Title ${t} ${i}!` }))
      const out = rows.map((r) => money(r.cents) + ' ' + slug(r.title))
      expect(out).toHaveLength(20_000)
      expect(out[0]).toMatch(/^-€50\.00 /)
    })
  }
})
