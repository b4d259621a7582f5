import { describe, expect, test } from 'vitest'
import { fragments, render } from '../src/lru.js'

// Renders far more distinct fragments than the cache holds: it stays at its capacity (2,000).
describe('cart-line fragments', () => {
  for (let t = 0; t < 3; t++) {
    test(`renders ${t}`, () => {
      for (let i = 0; i < 6000; i++) expect(render('cart-line', { id: i, t, label: 'cart-line ' + i })).toContain('cart-line')
      expect(fragments.size).toBe(2000)
    })
  }
})
