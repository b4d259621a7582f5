import { describe, expect, test } from 'vitest'
import { contextOf, handle } from '../src/context.js'

// Handles many requests; each request's context lives in a WeakMap keyed by the request and goes
// away with it. The WeakMap is module-level and stays — empty of anything reachable.
describe('admin handler', () => {
  for (let t = 0; t < 3; t++) {
    test(`handles requests ${t}`, () => {
      const requests = Array.from({ length: 8000 }, (_, i) => ({ id: t * 100_000 + i, path: `/admin/${i}` }))
      for (const request of requests) expect(handle(request).status).toBe(200)
      expect(contextOf(requests[5]).requestId).toBe(requests[5].id)
    })
  }
})
