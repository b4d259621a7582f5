import { describe, expect, test } from 'vitest'
import { jobEvents, watchJobs } from '../src/jobs.js'

// Each test watches the job stream and never stops watching (the fix: watcher.stop() —
// jobEvents.off — in afterEach).
describe('reindex jobs', () => {
  for (let t = 0; t < 3; t++) {
    test(`collects results ${t}`, () => {
      const watcher = watchJobs('reindex-' + t)
      for (let i = 0; i < 6000; i++) jobEvents.done(`reindex-${t}-${i}`, { bytes: i * 512, path: `/tmp/reindex/${t}/${i}.out` })
      expect(watcher.results).toHaveLength(6000)
    })
  }
})
