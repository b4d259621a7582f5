import { beforeAll, describe, expect, test } from 'vitest'
import { chat, startPresenceServer } from '../src/presence.js'

// One presence server per file, started in beforeAll and never stopped
// (the fix: afterAll(() => presence.stop()) — server.close()).
describe('typing presence', () => {
  let presence
  beforeAll(async () => { presence = await startPresenceServer() })

  for (let t = 0; t < 3; t++) {
    test(`clients report in ${t}`, async () => {
      for (let c = 0; c < 60; c++) {
        const lines = Array.from({ length: 150 }, (_, i) => `typing ${t} client ${c} line ${i} `.padEnd(120, '~'))
        expect(await chat(presence.port, lines)).toBe(150)
      }
      expect(presence.server.history.length).toBe((t + 1) * 60)
    })
  }
})
