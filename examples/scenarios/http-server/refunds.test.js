import { beforeAll, describe, expect, test } from 'vitest'
import { postJson, startOrderServer } from './src/server.js'

// One server per file, started in beforeAll and never closed
// (the fix: afterAll(() => api.stop()) — server.close() and the agent's sockets destroyed).
describe('refunds API', () => {
  let api
  beforeAll(async () => { api = await startOrderServer() })

  for (let t = 0; t < 3; t++) {
    test(`accepts orders ${t}`, async () => {
      for (let i = 0; i < 130; i++) {
        const items = Array.from({ length: 60 }, (_, k) => ['refunds-sku-' + k, (i + k) % 7])
        const reply = await postJson(api, '/orders', { note: 'refunds'.padEnd(2048, '.'), items })
        expect(reply.ok).toBe(true)
      }
    })
  }
})
