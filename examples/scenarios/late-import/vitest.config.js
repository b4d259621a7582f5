import { defineConfig } from 'vitest/config'
import { BaseSequencer } from 'vitest/node'

// A shared worker, as a CI "unit-fast" lane runs it: one long-lived fork runs every file (isolate=false).
// The files run in the order of their names (a suite that numbers its files and keeps that order with its
// own sequencer), so the ledger module is first imported by the third file: 01 and 02 never load it.
class ByName extends BaseSequencer {
  async sort(files) {
    return [...files].sort((a, b) => a.moduleId.localeCompare(b.moduleId))
  }
}

export default defineConfig({
  test: {
    include: ['**/*.test.js'],
    pool: 'forks',
    isolate: false,
    maxWorkers: 1,
    sequence: { sequencer: ByName },
  },
})
