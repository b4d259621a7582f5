import { describe, expect, test } from 'vitest'
import { sendMail } from './helpers/mailer-mock.js'
import { notifyAll } from './src/envelope.js'

// The mock's call history is never cleared between tests or files
// (the fix: vi.restoreAllMocks() / sendMail.mockClear() in afterEach, or restoreMocks: true).
describe('alerts mails', () => {
  for (let t = 0; t < 3; t++) {
    test(`sends batch ${t}`, async () => {
      const users = Array.from({ length: 1500 }, (_, i) => `alerts-${t}-${i}@example.test`)
      await notifyAll(sendMail, users, 'alerts ' + t)
      expect(sendMail).toHaveBeenCalled()
    })
  }
})
