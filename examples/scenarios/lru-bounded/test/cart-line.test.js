import { describe, expect, test } from 'vitest'
import { fragments, render } from '../src/lru.js'

// Renders far more distinct ~5 KB fragments than the cache holds: it stays at its capacity (2,000 —
// about 10 MB), every entry replaced by the next file's.
describe('cart-line fragments', () => {
  for (let t = 0; t < 3; t++) {
    test(`renders ${t}`, () => {
      for (let i = 0; i < 3000; i++) expect(render('cart-line', { id: i, t, label: 'cart-line ' + i })).toContain('cart-line')
      expect(fragments.size).toBe(2000)
    })
  }
})
