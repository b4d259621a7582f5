import { defineConfig } from 'vitest/config'

// Worker threads instead of forks, shared between files (isolate=false), two of them.
export default defineConfig({
  test: {
    include: ['test/**/*.test.js'],
    pool: 'threads',
    isolate: false,
    maxWorkers: 2,
  },
})
