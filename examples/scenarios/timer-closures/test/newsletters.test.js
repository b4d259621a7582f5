import { describe, expect, test } from 'vitest'
import { createOutbox, OutboundMessage } from '../src/outbox.js'

const failingTransport = async () => { throw new Error('smtp unavailable') }

// Every failed delivery schedules a retry a minute later; nothing cancels them
// (the fix: outbox.cancelAll() — clearTimeout — in afterEach, or vi.useFakeTimers()).
describe('newsletters delivery', () => {
  for (let t = 0; t < 3; t++) {
    test(`retries failed sends ${t}`, async () => {
      const outbox = createOutbox(failingTransport)
      for (let i = 0; i < 1800; i++) {
        const body = `newsletters ${t}/${i} `.padEnd(1024, 'lorem ipsum ')
        expect(await outbox.send(new OutboundMessage(`user${i}@example.test`, 'newsletters ' + i, body))).toBe('retry-scheduled')
      }
      expect(outbox.pendingCount()).toBe(1800)
    })
  }
})
