import { defineConfig } from 'vitest/config'

// Vitest 5: one worker thread shared by every file (isolate=false).
export default defineConfig({
  test: {
    include: ['test/**/*.test.js'],
    pool: 'threads',
    isolate: false,
    maxWorkers: 1,
  },
})
