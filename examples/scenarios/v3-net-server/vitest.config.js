import { defineConfig } from 'vitest/config'

// Vitest 3: one shared fork for every file (singleFork, isolate=false).
export default defineConfig({
  test: {
    include: ['test/**/*.test.js'],
    pool: 'forks',
    poolOptions: { forks: { singleFork: true, isolate: false } },
  },
})
