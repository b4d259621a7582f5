import { describe, expect, test } from 'vitest'
import { loadSession, sessionCount } from './src/cache.js'

// Each test logs in 3,000 users; nothing clears the cache afterwards (the fix: afterEach(clearSessions)).
describe('audit', () => {
  for (let t = 0; t < 3; t++) {
    test(`sessions batch ${t}`, () => {
      const before = sessionCount()
      for (let i = 0; i < 3000; i++) loadSession(`audit-${t}-${i}`)
      expect(sessionCount()).toBe(before + 3000)
    })
  }
})
