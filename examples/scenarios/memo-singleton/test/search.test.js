import { describe, expect, test } from 'vitest'
import { resolver } from '../src/routes.js'

// Resolves thousands of distinct URLs through the shared resolver; its memo is never cleared
// (the fix: afterEach(() => resolver.clear())).
describe('search routes', () => {
  for (let t = 0; t < 3; t++) {
    test(`resolves batch ${t}`, () => {
      for (let i = 0; i < 5000; i++) {
        const url = i % 2 ? `/shop/search-${t}/products/${i}` : `/orders/${i}/lines/${t}`
        const match = resolver.resolve(url)
        expect(match).not.toBeNull()
      }
    })
  }
})
