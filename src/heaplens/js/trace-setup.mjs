// heaplens memory trace and heap snapshots: injected by `heaplens run` as the first Vitest setup file. It runs
// inside the worker (a child process with forks/vmForks, a worker thread with threads/vmThreads) before each
// test file, and appends one JSON line per event to $HEAPLENS_TRACE_FILE with appendFileSync (one write(2) per
// line, O_APPEND): a line is on disk the moment it happens and survives the worker dying right after.
//
// Events (docs/runner.md, "Memory trace"):
//   start      the file begins (before its imports); the worker's first file also measures after a full GC
//   collected  after the file's imports and collection (a beforeAll registered here runs first); only when each
//              file has a worker of its own (isolate with forks/threads), measured after a full GC
//   end        the file is done (an afterAll registered here runs last), measured after a full GC
//   snapshot   a heap snapshot written by this worker (v8.writeHeapSnapshot: the calling isolate's heap)
//   snapshot-deferred / snapshot-skipped   why a boundary got no snapshot (said once per worker and reason)
//
// Snapshots ($HEAPLENS_SNAPSHOTS=1) are taken at test-file boundaries, after a forced full GC:
// - a worker that runs several files (isolate: false, or a vm pool): after its first file's collection, the
//   end of its first file, the end of its last file, and file ends in between when the overhead budget allows. A worker knows its file was its
//   last when the lane has started every planned file: each file start appends one byte to $HEAPLENS_STARTED,
//   whose size is compared with $HEAPLENS_PLANNED (files × projects running them). Otherwise its last file
//   end is written when Vitest tells it to stop (the `stop` message of Vitest >= 4, which stops a worker as
//   soon as no file is left for it), or when it sees the counter complete while idle (Vitest 3 keeps idle
//   workers to the end);
// - a worker per file (isolate with forks/threads): the pair "after collection" / "end of file", for the first
//   file of each pool slot and for later files when the budget allows both.
// The budget: the snapshot seconds of the worker's pool slot (VITEST_POOL_ID) stay within
// $HEAPLENS_SNAPSHOT_OVERHEAD of the lane's wall time, judged from the measured write time of the previous
// snapshot; the lane's snapshot bytes stay within $HEAPLENS_SNAPSHOT_DISK. Each snapshot is also appended to
// the lane's ledger ($HEAPLENS_LEDGER), which every worker reads to apply the budgets.
import { afterAll, beforeAll, expect } from 'vitest'
import fs from 'node:fs'
import path from 'node:path'
import timers from 'node:timers'
import v8 from 'node:v8'
import vm from 'node:vm'
import { parentPort, threadId } from 'node:worker_threads'

const env = process.env
const out = env.HEAPLENS_TRACE_FILE
const KEY = Symbol.for('heaplens.trace')
const HOOK_TIMEOUT = 3_600_000

// Per worker (process or thread) state, kept on `process`: the same object for every file a worker runs,
// also in vm pools, where each file has a new global object. Real functions are captured once, so a test's
// fake timers or fs mocks never reach the trace.
function state() {
  let st = process[KEY]
  if (st) return st
  st = {
    files: 0,
    seq: 0,
    snaps: 0,
    said: {},
    pairOpen: false,
    lastWrite: null, // seconds the last snapshot of this worker took
    lastBytes: null,
    idle: null,
    hr: process.hrtime.bigint,
    epoch0: Date.now(),
    hr0: process.hrtime.bigint(),
    append: fs.appendFileSync,
    read: fs.readFileSync,
    exists: fs.existsSync,
    stat: fs.statSync,
    statfs: fs.statfsSync,
    readdir: fs.readdirSync,
    unlink: fs.unlinkSync,
    memoryUsage: process.memoryUsage.bind(process),
    setInterval: timers.setInterval,
    clearInterval: timers.clearInterval,
    gc: null,
    ended: 0, // files ended in this worker
    snapAt: -1, // `ended` when its last snapshot was written
    lastFile: null,
    stopHook: false,
  }
  Object.defineProperty(process, KEY, { value: st, enumerable: false, configurable: true })
  return st
}

const st = state()
const now = () => st.epoch0 + Number(st.hr() - st.hr0) / 1e6

function fullGc() {
  // A full, forced GC without exposing `gc` to the tests: the flag is set, one new context gets the
  // function, the flag is cleared (so later vm contexts, e.g. the next test file's, do not see it).
  if (!st.gc) {
    if (typeof globalThis.gc === 'function') {
      st.gc = globalThis.gc
    } else {
      try {
        v8.setFlagsFromString('--expose-gc')
        st.gc = vm.runInNewContext('gc')
      } catch {
        st.gc = () => {}
      } finally {
        try { v8.setFlagsFromString('--no-expose-gc') } catch {}
      }
    }
  }
  const t0 = st.hr()
  try { st.gc() } catch {}
  return Number(st.hr() - t0) / 1e6
}

function currentFile() {
  try {
    const p = expect.getState().testPath
    if (p) return p
  } catch {}
  const w = globalThis.__vitest_worker__
  return (w && (w.filepath || (w.ctx && w.ctx.files && w.ctx.files[0] && (w.ctx.files[0].filepath || w.ctx.files[0])))) || null
}

function workerConfig() {
  const w = globalThis.__vitest_worker__
  const c = (w && w.config) || {}
  const pool = typeof c.pool === 'string' ? c.pool : 'forks'
  let isolate = c.isolate
  const po = c.poolOptions && c.poolOptions[pool]
  if (po && typeof po.isolate === 'boolean') isolate = po.isolate // Vitest 3
  if (isolate == null) isolate = true
  return { pool, isolate: Boolean(isolate), project: c.name || '' }
}

const cfg = workerConfig()
// forks/threads with isolate: every test file gets a fresh worker; vm pools keep theirs (a new context per file).
const perFile = cfg.isolate && (cfg.pool === 'forks' || cfg.pool === 'threads')
const threadPool = cfg.pool === 'threads' || cfg.pool === 'vmThreads'
const slot = env.VITEST_POOL_ID ? `${cfg.pool}:${env.VITEST_POOL_ID}` : `${process.pid}.${threadId}`

function write(line) {
  if (!out) return
  try { st.append(out, JSON.stringify(line) + '\n') } catch {}
}

function record(ev, file, extra) {
  const m = st.memoryUsage()
  write({
    ev,
    pid: process.pid,
    ppid: process.ppid,
    tid: threadId,
    main: threadPool ? process.pid : process.ppid, // Vitest's main process
    file,
    t: Math.round(now()),
    rss: m.rss,
    heapUsed: m.heapUsed,
    heapTotal: m.heapTotal,
    external: m.external,
    arrayBuffers: m.arrayBuffers,
    poolId: env.VITEST_POOL_ID ?? null,
    workerId: env.VITEST_WORKER_ID ?? null,
    pool: cfg.pool,
    isolate: cfg.isolate,
    project: cfg.project,
    n: st.files,
    ...extra,
  })
  return m
}

// ------------------------------------------------------------------ snapshots
const snapDir = env.HEAPLENS_SNAPSHOTS === '1' ? env.HEAPLENS_SNAPSHOT_DIR : null
const overhead = Number(env.HEAPLENS_SNAPSHOT_OVERHEAD || 0.25)
const diskBudget = env.HEAPLENS_SNAPSHOT_DISK ? Number(env.HEAPLENS_SNAPSHOT_DISK) : Infinity
const laneT0 = Number(env.HEAPLENS_LANE_T0 || 0) || now()
const ledgerPath = env.HEAPLENS_LEDGER

function ledger() {
  if (!ledgerPath) return []
  let text = ''
  try { text = st.read(ledgerPath, 'utf8') } catch { return [] }
  const outl = []
  for (const l of text.split('\n')) {
    if (!l) continue
    try { outl.push(JSON.parse(l)) } catch {}
  }
  return outl
}

function say(kind, reason, extra) {
  // one line per worker and reason: heaplens prints one per lane
  const key = `${kind}:${reason}`
  if (st.said[key]) return
  st.said[key] = true
  write({ ev: kind, reason, pid: process.pid, tid: threadId, file: st.current || null, t: Math.round(now()), ...extra })
}

const pad = (n, w = 2) => String(n).padStart(w, '0')

function snapshotName() {
  // Node's own pattern (Heap.YYYYMMDD.HHMMSS.PID.TID.SEQ.heapsnapshot): the sequence continues from any
  // snapshot of this PID/TID already in the directory (e.g. one Node wrote on a signal), so none is overwritten.
  const mine = new RegExp(`^Heap\\.\\d{8}\\.\\d{6}\\.${process.pid}\\.${threadId}\\.(\\d+)\\.heapsnapshot$`)
  try {
    for (const name of st.readdir(snapDir)) {
      const m = mine.exec(name)
      if (m) st.seq = Math.max(st.seq, Number(m[1]))
    }
  } catch {}
  st.seq += 1
  const d = new Date(now())
  const stamp = `${d.getFullYear()}${pad(d.getMonth() + 1)}${pad(d.getDate())}.${pad(d.getHours())}${pad(d.getMinutes())}${pad(d.getSeconds())}`
  return path.join(snapDir, `Heap.${stamp}.${process.pid}.${threadId}.${pad(st.seq, 3)}.heapsnapshot`)
}

// Whether the budgets allow `count` more snapshots now; `force` skips the time budget (first/last/pair end).
function allowed(count, force, heapUsed) {
  if (!snapDir) return false
  if (st.stopped) return false
  const entries = ledger()
  const stop = entries.find((e) => e.ev === 'stop')
  if (stop) {
    st.stopped = stop.reason
    return false
  }
  const mine = entries.filter((e) => e.ev === 'snapshot' && e.slot === slot)
  const all = entries.filter((e) => e.ev === 'snapshot')
  const last = mine.length ? mine[mine.length - 1] : all.length ? all[all.length - 1] : null
  // A snapshot of V8's heap is written at ~30-60 MB/s and is about twice the used heap on disk: an
  // estimate for the first one only; afterwards the measured write time and size of the previous one.
  const est = st.lastWrite ?? (last ? last.seconds : 0.2 + heapUsed / 40e6)
  const estBytes = st.lastBytes ?? (last ? last.bytes : heapUsed * 2)
  const spentBytes = all.reduce((a, e) => a + (e.bytes || 0), 0)
  if (spentBytes + count * estBytes > diskBudget) {
    say('snapshot-skipped', 'disk-budget', { budget: diskBudget, spent: spentBytes, estimate: estBytes })
    return false
  }
  try {
    if (st.statfs) {
      const s = st.statfs(snapDir)
      const free = Number(s.bavail) * Number(s.bsize)
      if (free < count * estBytes * 1.5 + 64 * 1024 * 1024) {
        say('snapshot-skipped', 'disk-free', { free, estimate: estBytes })
        return false
      }
    }
  } catch {}
  if (force) return true
  const spent = mine.reduce((a, e) => a + (e.seconds || 0), 0)
  const elapsed = (now() - laneT0) / 1000
  const cost = count * est
  if (spent + cost <= overhead * (elapsed + cost)) return true
  // the earliest time at which the same snapshot would fit: spent + cost <= overhead * (elapsed' + cost)
  const wait = (spent + cost) / overhead - cost - elapsed
  say('snapshot-deferred', 'budget', { spent, elapsed, estimate: est, overhead, slot, wait })
  return false
}

function snapshot(reason, at, file, settled) {
  const target = snapshotName()
  const rssBefore = settled ? settled.rss : st.memoryUsage().rss
  const t0 = st.hr()
  try {
    v8.writeHeapSnapshot(target)
  } catch (e) {
    const code = (e && e.code) || String(e)
    try { st.unlink(target) } catch {}
    st.stopped = code
    say('snapshot-skipped', 'error', { error: code, message: String((e && e.message) || e).slice(0, 300) })
    if (ledgerPath) {
      try { st.append(ledgerPath, JSON.stringify({ ev: 'stop', reason: code, pid: process.pid, tid: threadId, t: Math.round(now()) }) + '\n') } catch {}
    }
    return false
  }
  const seconds = Number(st.hr() - t0) / 1e9
  let bytes = 0
  try { bytes = st.stat(target).size } catch {}
  st.lastWrite = seconds
  st.lastBytes = bytes
  st.snaps += 1
  st.snapAt = st.ended
  const rssAfter = st.memoryUsage().rss
  const entry = { ev: 'snapshot', slot, pid: process.pid, tid: threadId, seconds, bytes, t: Math.round(now()) }
  if (ledgerPath) {
    try { st.append(ledgerPath, JSON.stringify(entry) + '\n') } catch {}
  }
  write({
    ...entry,
    path: target,
    file,
    reason,
    at,
    n: st.files,
    heapUsed: settled ? settled.heapUsed : null,
    external: settled ? settled.external : null,
    rssBefore,
    rssAfter,
    poolId: env.VITEST_POOL_ID ?? null,
  })
  return true
}

const startedPath = env.HEAPLENS_STARTED
const planned = Number(env.HEAPLENS_PLANNED || 0)

function drained() {
  if (!startedPath || !planned) return false
  try { return st.stat(startedPath).size >= planned } catch { return false }
}

function stopIdle() {
  if (st.idle) {
    st.clearInterval(st.idle)
    st.idle = null
  }
}

// After a file end without a snapshot: if this worker gets no other file and the lane has started every
// planned file, its last file has ended — snapshot it now, while it waits to be stopped.
function watchIdle(file, filesAtEnd) {
  stopIdle()
  st.idle = st.setInterval(() => {
    if (st.files !== filesAtEnd) return stopIdle()
    if (!drained()) return
    stopIdle()
    if (st.snapAt === st.ended) return
    const gcMs = fullGc()
    const m = st.memoryUsage()
    if (allowed(1, true, m.heapUsed)) snapshot('last', 'idle', file, { ...m, gcMs })
  }, 25)
  if (st.idle && st.idle.unref) st.idle.unref()
}

// Vitest >= 4 stops a worker with a `stop` message as soon as no file is left for it. Its handler is async
// (it first awaits the running file); this listener, registered after it, runs synchronously in the same
// dispatch, so the snapshot of the worker's last file end is written before the worker tears down.
function lastAtStop() {
  stopIdle()
  if (!snapDir || perFile || st.stopped) return
  if (st.ended === 0 || st.snapAt === st.ended) return
  const gcMs = fullGc()
  const m = st.memoryUsage()
  if (allowed(1, true, m.heapUsed)) snapshot('last', 'stop', st.lastFile, { ...m, gcMs })
}

function onMessage(msg) {
  if (msg && typeof msg === 'object' && msg.type === 'stop') {
    try { lastAtStop() } catch {}
  }
}

if (snapDir && !perFile && !st.stopHook) {
  st.stopHook = true
  try {
    if (parentPort && threadPool) parentPort.on('message', onMessage)
    else if (typeof process.send === 'function') process.on('message', onMessage)
  } catch {}
}

// ------------------------------------------------------------------ the hooks
const file = currentFile()
stopIdle()
if (startedPath) {
  try { st.append(startedPath, '.') } catch {}
}
st.files += 1
st.current = file
const first = st.files === 1
if (first) {
  // the worker's baseline, after a full GC, before the file's imports
  const gcMs = fullGc()
  record('start', file, { heapLimit: v8.getHeapStatistics().heap_size_limit, settled: true, gcMs })
} else {
  record('start', file, { heapLimit: v8.getHeapStatistics().heap_size_limit, settled: false })
}

// After the file's collection (its imports and top-level code done, no test run yet): the GC-settled
// baseline of a worker per file, and its pair's first snapshot; for a worker that runs several files, its
// first file only — the earliest snapshot of that worker, so that even a worker that gets a single file has
// two, and module state that exists before the tests counts as old.
if (perFile || (first && snapDir)) {
  beforeAll(() => {
    const gcMs = fullGc()
    const m = record('collected', file, { settled: true, gcMs })
    if (!snapDir) return
    if (!perFile) {
      if (allowed(1, true, m.heapUsed)) snapshot('first', 'collected', file, { ...m, gcMs })
      return
    }
    // the pair opens only if both snapshots fit; the slot's first file always gets one
    const slotFirst = !ledger().some((e) => e.ev === 'snapshot' && e.slot === slot)
    if (allowed(2, slotFirst, m.heapUsed) && snapshot(slotFirst ? 'first' : 'budget', 'collected', file, { ...m, gcMs })) {
      st.pairOpen = true
    }
  }, HOOK_TIMEOUT)
}

afterAll(() => {
  const gcMs = fullGc()
  st.ended += 1
  st.lastFile = file
  const m = record('end', file, { settled: true, gcMs })
  if (!snapDir) return
  if (perFile) {
    if (st.pairOpen && allowed(1, true, m.heapUsed)) snapshot('pair', 'end', file, { ...m, gcMs })
    st.pairOpen = false
    return
  }
  let reason = null
  if (drained()) reason = 'last'
  else if (first) reason = 'first'
  const taken = reason ? allowed(1, true, m.heapUsed) && snapshot(reason, 'end', file, { ...m, gcMs })
    : allowed(1, false, m.heapUsed) && snapshot('budget', 'end', file, { ...m, gcMs })
  // no snapshot at this end: if it turns out to be the worker's last, the idle watch takes it
  if (!taken && reason !== 'last' && !st.stopped) watchIdle(file, st.files)
}, HOOK_TIMEOUT)
