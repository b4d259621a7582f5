import { describe, expect, test } from 'vitest'
import { contextOf, handle } from '../src/context.js'

// Handles 100,000 requests at once; each request's context lives in a WeakMap keyed by the request
// and goes away with it. The WeakMap is module-level and stays — empty of anything reachable.
describe('search handler', () => {
  for (let t = 0; t < 3; t++) {
    test(`handles requests ${t}`, () => {
      const requests = Array.from({ length: 100_000 }, (_, i) => ({ id: t * 100_000 + i, path: `/search/${i}` }))
      let ok = 0
      for (const request of requests) ok += handle(request).status === 200 ? 1 : 0
      expect(ok).toBe(requests.length)
      expect(contextOf(requests[5]).requestId).toBe(requests[5].id)
    })
  }
})
