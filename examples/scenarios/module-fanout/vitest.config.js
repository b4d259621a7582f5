import { defineConfig } from 'vitest/config'

// A shared worker, as a CI "unit-fast" lane runs it: one long-lived fork runs every file (isolate=false).
export default defineConfig({
  test: {
    include: ['**/*.test.js'],
    pool: 'forks',
    isolate: false,
    maxWorkers: 1,
  },
})
