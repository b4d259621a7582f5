// The cost V8's heap-snapshot object ids put on a worker after its first snapshot (docs/performance.md,
// "capture cost"; docs/runner.md, "After a worker's first snapshot, V8 scavenges on one thread"): V8 keeps every
// object's snapshot id stable by tracking each object the GC moves from the first snapshot on, so
// allocation-heavy code slows down until the ids are cleared (HeapProfiler.disable). Each move is reported under
// one lock, which the scavenger's parallel tasks contend on: heaplens's setup file sets --no-parallel-scavenge
// right after a worker's first snapshot.
//
//   node bench/js/snapshot_tracking.mjs [ROUNDS]
//
// Prints the median wall and CPU time of an allocation-heavy loop (1.2 M Dates kept in an array: date-fns's
// eachMinuteOfInterval test does the same) before any snapshot, after one, after one with one scavenger thread
// (what heaplens does), and after the ids are cleared.
import inspector from 'node:inspector'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import v8 from 'node:v8'

const rounds = Number(process.argv[2] || 5)
const work = () => {
  const t0 = process.hrtime.bigint()
  const c0 = process.cpuUsage()
  const out = []
  let d = Date.UTC(2024, 8, 1)
  for (let i = 0; i < 1.2e6; i++) { const x = new Date(d); x.setSeconds(0, 0); out.push(x); d += 60000 }
  const c = process.cpuUsage(c0)
  return { wall: Number(process.hrtime.bigint() - t0) / 1e6, cpu: (c.user + c.system) / 1000 }
}
const median = () => {
  const a = Array.from({ length: rounds }, work)
  const mid = (k) => a.map((x) => x[k]).sort((x, y) => x - y)[Math.floor(a.length / 2)]
  return { wall: mid('wall'), cpu: mid('cpu') }
}
const before = median()
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'heaplens-tracking-'))
v8.writeHeapSnapshot(path.join(dir, 'one.heapsnapshot'))
fs.rmSync(dir, { recursive: true, force: true })
const tracked = median()
v8.setFlagsFromString('--no-parallel-scavenge')
const oneThread = median()
v8.setFlagsFromString('--parallel-scavenge')
const s = new inspector.Session()
s.connect()
s.post('HeapProfiler.enable', () => {})
s.post('HeapProfiler.disable', () => {}) // clears the ids: the GC stops reporting moves
s.disconnect()
const cleared = median()
const fmt = (name, x) => `${name} wall ${x.wall.toFixed(0)} ms (${(x.wall / before.wall).toFixed(2)}x), ` +
  `CPU ${x.cpu.toFixed(0)} ms (${(x.cpu / before.cpu).toFixed(2)}x)`
console.log([fmt('before any snapshot', before), fmt('after one', tracked),
  fmt('after one, --no-parallel-scavenge', oneThread), fmt('after HeapProfiler.disable', cleared)].join('\n') +
  `\n[median of ${rounds}, node ${process.version}, ${os.cpus().length} CPUs]`)
