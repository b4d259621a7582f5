import { describe, expect, test } from 'vitest'
import { makeExport, runPipeline } from '../src/pipeline.js'

// Parses and aggregates ~50,000 records (tens of MB of temporaries) per test and keeps only a summary.
describe('expenses pipeline', () => {
  for (let t = 0; t < 3; t++) {
    test(`aggregates export ${t}`, () => {
      const summary = runPipeline(makeExport('expenses-' + t, 50_000))
      expect(summary).toMatchObject({ accounts: 500, records: 50_000 })
    })
  }
})
