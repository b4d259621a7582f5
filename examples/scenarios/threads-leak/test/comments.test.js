import { describe, expect, test } from 'vitest'
import { notifyAll, subscribe } from '../src/subscriptions.js'

// Each test subscribes live queries and drops the handles without unsubscribe()
// (the fix: call unsubscribe() in afterEach — subscriptions.delete, or clear the set).
describe('comments live queries', () => {
  for (let t = 0; t < 3; t++) {
    test(`subscribes ${t}`, () => {
      for (let i = 0; i < 4000; i++) {
        subscribe(`select * from comments where shard = ${t} and id > ${i}`, Array.from({ length: 4 }, (_, k) => ({ id: i * 4 + k, shard: t })))
      }
      expect(notifyAll()).toBeGreaterThanOrEqual(4000)
    })
  }
})
