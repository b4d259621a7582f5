import { describe, expect, test } from 'vitest'
import { createTracer } from '../src/telemetry.js'

// Each test creates a tracer (a 'flush' listener on the global telemetry EventTarget) and never
// shuts it down; no flush is dispatched, so every span stays (the fix: tracer.shutdown() in afterEach).
describe('db tracing', () => {
  for (let t = 0; t < 3; t++) {
    test(`traces requests ${t}`, () => {
      const tracer = createTracer('db-' + t)
      for (let i = 0; i < 6000; i++) tracer.span('db.op', { route: `/db/${t}/${i}`, status: 200 + (i % 3) })
      expect(tracer.spans).toHaveLength(6000)
    })
  }
})
