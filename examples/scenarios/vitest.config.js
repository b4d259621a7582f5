import { defineConfig } from 'vitest/config'

// One Vitest project for every scenario; `heaplens run <scenario dir>` picks one directory.
export default defineConfig({
  test: {
    include: ['*/**/*.test.js'],
    // a shared worker per run, as OpenClaw's unit-fast lane (README): heaplens runs the suite as configured
    isolate: false,
    exclude: ['**/node_modules/**', 'scripts/**'],
  },
})
