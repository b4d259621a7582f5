// The cost V8's heap-snapshot object ids put on a worker after its first snapshot (docs/performance.md,
// "capture cost"): V8 keeps every object's snapshot id stable by tracking each object the GC moves from the
// first snapshot on, so allocation-heavy code slows down until the ids are cleared (HeapProfiler.disable).
//
//   node bench/js/snapshot_tracking.mjs [ROUNDS]
//
// Prints the median CPU time of an allocation-heavy loop (1.2 M Dates kept in an array: date-fns's
// eachMinuteOfInterval test does the same) before any snapshot, after one, and after the ids are cleared.
import inspector from 'node:inspector'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import v8 from 'node:v8'

const rounds = Number(process.argv[2] || 5)
const work = () => {
  const c0 = process.cpuUsage()
  const out = []
  let d = Date.UTC(2024, 8, 1)
  for (let i = 0; i < 1.2e6; i++) { const x = new Date(d); x.setSeconds(0, 0); out.push(x); d += 60000 }
  const c = process.cpuUsage(c0)
  return (c.user + c.system) / 1000
}
const median = () => {
  const a = Array.from({ length: rounds }, work).sort((x, y) => x - y)
  return a[Math.floor(a.length / 2)]
}
const before = median()
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'heaplens-tracking-'))
v8.writeHeapSnapshot(path.join(dir, 'one.heapsnapshot'))
fs.rmSync(dir, { recursive: true, force: true })
const tracked = median()
const s = new inspector.Session()
s.connect()
s.post('HeapProfiler.enable', () => {})
s.post('HeapProfiler.disable', () => {}) // clears the ids: the GC stops reporting moves
s.disconnect()
const cleared = median()
const ms = (x) => `${x.toFixed(0)} ms`
console.log(`before any snapshot ${ms(before)}; after one ${ms(tracked)} (${(tracked / before).toFixed(2)}x); ` +
  `after HeapProfiler.disable ${ms(cleared)} (${(cleared / before).toFixed(2)}x)  [median CPU of ${rounds}, node ${process.version}]`)
