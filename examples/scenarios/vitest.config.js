import { defineConfig } from 'vitest/config'

// One Vitest project for every scenario; `heaplens run <scenario dir>` picks one directory.
export default defineConfig({
  test: {
    include: ['*/**/*.test.js'],
    exclude: ['**/node_modules/**', 'scripts/**'],
  },
})
