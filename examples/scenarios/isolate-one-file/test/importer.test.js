import { describe, expect, test } from 'vitest'
import { stage, stagedCount } from '../src/importer.js'

const csv = (n, tag) => Array.from({ length: n }, (_, i) => `${tag}-${i},${tag} customer ${i},${i * 3},EUR`).join('\n')

// The only leak of this suite, inside one file: every test stages rows and none commits or resets
// the stage (the fix: afterEach(commit) — staged.length = 0). The file runs in its own worker
// (isolate=true), so nothing crosses files; the growth is between the file's start and its end.
describe('csv importer', () => {
  for (let t = 0; t < 4; t++) {
    test(`stages batch ${t}`, () => {
      const before = stagedCount()
      expect(stage(csv(12000, 'batch' + t))).toBe(12000)
      expect(stagedCount()).toBe(before + 12000)
    })
  }
})
