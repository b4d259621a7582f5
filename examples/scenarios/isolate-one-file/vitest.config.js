import { defineConfig } from 'vitest/config'

// Vitest's defaults made explicit: every test file in a fresh fork (isolate=true), two at a time.
export default defineConfig({
  test: {
    include: ['test/**/*.test.js'],
    pool: 'forks',
    isolate: true,
    maxWorkers: 2,
  },
})
