import { describe, expect, test } from 'vitest'
import { encode, framePool } from '../src/frames.js'

// Each test leases frames from the shared pool and never releases them
// (the fix: framePool.release(frame) — or framePool.releaseAll() in afterEach).
describe('h264 encoder', () => {
  for (let t = 0; t < 3; t++) {
    test(`encodes clip ${t}`, () => {
      const frames = Array.from({ length: 6 }, () => framePool.acquire())
      expect(encode(frames, t)).toBeGreaterThan(0)
      expect(framePool.inUse).toBeGreaterThanOrEqual(6)
    })
  }
})
