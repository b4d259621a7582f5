import { describe, expect, test } from 'vitest'
import { blobCount, put } from './src/blob-store.js'

// Each test stores 3 MiB of Buffers and never resets the store (the fix: afterEach(reset)).
// The JS heap barely grows (a few small Buffer objects); RSS grows by the backing stores.
describe('uploads blobs', () => {
  for (let t = 0; t < 3; t++) {
    test(`stores blobs ${t}`, () => {
      const before = blobCount()
      for (let i = 0; i < 6; i++) put(`uploads-${t}-${i}`, 512 * 1024)
      expect(blobCount()).toBe(before + 6)
    })
  }
})
