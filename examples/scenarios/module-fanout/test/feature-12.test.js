import { describe, expect, test } from 'vitest'
import { runFeature, stepCount } from '../src/generated/feature-12/index.js'

// Loads one feature: its index and ten part modules (plus shared utilities). In a shared worker
// (isolate=false) every file's modules stay in the module runner's cache: the number of evaluated
// modules grows by eleven per file.
describe('feature 12', () => {
  test('runs every step', () => {
    const out = runFeature(13)
    expect(out).toHaveLength(stepCount)
    expect(out.every((r) => r.ok)).toBe(true)
  })
})
