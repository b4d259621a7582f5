// heaplens memory trace: injected by `heaplens run` as a Vitest setup file. It runs inside the
// worker before each test file; it appends one JSON line per event to $HEAPLENS_TRACE_FILE with
// appendFileSync (one write(2) per line, O_APPEND), so a line is on disk the moment it happens and
// survives the worker dying right after (heap out of memory, a signal).
import { afterAll, expect } from 'vitest'
import fs from 'node:fs'
import v8 from 'node:v8'

const out = process.env.HEAPLENS_TRACE_FILE

function currentFile() {
  try {
    const p = expect.getState().testPath
    if (p) return p
  } catch {}
  const w = globalThis.__vitest_worker__
  return (w && (w.filepath || (w.ctx && w.ctx.files && w.ctx.files[0]))) || null
}

function record(ev, file, extra) {
  if (!out) return
  const m = process.memoryUsage()
  const line = {
    ev,
    pid: process.pid,
    ppid: process.ppid,
    file,
    t: Date.now(),
    rss: m.rss,
    heapUsed: m.heapUsed,
    heapTotal: m.heapTotal,
    external: m.external,
    arrayBuffers: m.arrayBuffers,
    poolId: process.env.VITEST_POOL_ID ?? null,
    workerId: process.env.VITEST_WORKER_ID ?? null,
    ...extra,
  }
  try {
    fs.appendFileSync(out, JSON.stringify(line) + '\n')
  } catch {}
}

const file = currentFile()
record('start', file, { heapLimit: v8.getHeapStatistics().heap_size_limit })
afterAll(() => {
  record('end', file)
})
