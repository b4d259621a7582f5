// heaplens memory trace and heap snapshots: injected by `heaplens run` as the first Vitest setup file. It runs
// inside the worker (a child process with forks/vmForks, a worker thread with threads/vmThreads) before each
// test file, and appends one JSON line per event to $HEAPLENS_TRACE_FILE with appendFileSync (one write(2) per
// line, O_APPEND): a line is on disk the moment it happens and survives the worker dying right after.
//
// Events (docs/runner.md, "Memory trace"):
//   start      the file begins (before its imports); the worker's first file also measures after a full GC
//   collected  after the file's imports and collection (a beforeAll registered here runs first), after a full
//              GC: for a worker per file (isolate with forks/threads), and for a worker's first file when it
//              may get a single one
//   end        the file is done (an afterAll registered here runs last); after a full GC for a worker per file,
//              at snapshot boundaries and as the GC budget allows (`settled`)
//   snapshot   a heap snapshot written by this worker (v8.writeHeapSnapshot: the calling isolate's heap)
//   snapshot-deferred / snapshot-skipped   why a boundary got no snapshot (said once per worker and reason)
//
// Snapshots ($HEAPLENS_SNAPSHOTS=1) are taken at test-file boundaries, after a forced full GC:
// - a worker that runs several files (isolate: false, or a vm pool): the end of its first file, the end of its
//   last file, and middles at fixed shares of the files it is expected to run when the overhead budget allows
//   (after its first file's collection too when it may get a single file). A worker knows its file was its
//   last when the lane has started every planned file: each file start appends one byte to $HEAPLENS_STARTED,
//   whose size is compared with $HEAPLENS_PLANNED (files × projects running them). Otherwise its last file
//   end is written when Vitest tells it to stop (the `stop` message of Vitest >= 4, which stops a worker as
//   soon as no file is left for it), or when it sees the counter complete while idle (Vitest 3 keeps idle
//   workers to the end);
// - a worker per file (isolate with forks/threads): the pair "after collection" / "end of file", in heaplens's
//   follow-up lane ($HEAPLENS_PAIRS=1) that reruns the files that grew most inside the file in the lane.
// The budget: the snapshot seconds of the worker's pool slot (VITEST_POOL_ID) stay within
// $HEAPLENS_SNAPSHOT_OVERHEAD of the lane's wall time, judged from the measured write rate of the previous
// snapshot; the lane's snapshot bytes stay within $HEAPLENS_SNAPSHOT_DISK. Each snapshot is also appended to
// the lane's ledger ($HEAPLENS_LEDGER), which every worker reads to apply the budgets.
import { afterAll, beforeAll, expect } from 'vitest'
import fs from 'node:fs'
import inspector from 'node:inspector'
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
    lastRef: null, // this worker's last snapshot: {seconds, bytes, heapUsed}
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
    gcSpent: 0, // ms of forced GC in this worker
    gcLast: 0,
    t0: 0, // when its first file began
    mark: 0, // middle snapshots taken
    settledHeap: 0, // heap used at its last GC-settled line
    snapAt: -1, // `ended` when its last snapshot was written
    lastFile: null,
    stopHook: false,
  }
  Object.defineProperty(process, KEY, { value: st, enumerable: false, configurable: true })
  return st
}

const st = state()
const now = () => st.epoch0 + Number(st.hr() - st.hr0) / 1e6

// Every file end is GC-settled by default: the per-file line is the number for per-file growth, hotspots,
// baselines and verification. Its forced GC grows with a long-lived worker's heap (~15 ms at 20 MB on an idle
// machine, ~70 ms on a busy one: up to a third of a suite of 0.2 s files), so it can be given a budget:
// $HEAPLENS_GC_OVERHEAD (a fraction, e.g. 0.05) — a file end is then settled when the worker's GC time so far,
// plus the last one's, stays within that share of its time since its first file began; the first file end and
// every snapshot boundary always are. An end without the GC says `settled: false`; the growth then spans the
// files since the previous settled end.
const gcOverhead = env.HEAPLENS_GC_OVERHEAD ? Number(env.HEAPLENS_GC_OVERHEAD) : Infinity

// Snapshots between a worker's first and last file end: at fixed shares of the files it is expected to run
// (the lane's planned runs over the most workers it can have), so that the same files get them whatever the
// machine's load and a trend has points in between. A middle that the overhead budget does not allow yet
// waits for a later file end (said once); marks passed meanwhile are covered by the one snapshot taken.
const MIDDLES = Math.max(0, Number(env.HEAPLENS_SNAPSHOT_MIDDLES ?? 1))

function marksPassed() {
  const maxWorkers = Math.max(1, Number(env.HEAPLENS_MAX_WORKERS || 1))
  const expected = Math.max(1, Math.ceil(planned / maxWorkers))
  let n = 0
  for (let k = 1; k <= MIDDLES; k++) {
    const at = Math.round((expected * k) / (MIDDLES + 1))
    if (at > 1 && st.files >= at) n = k
  }
  return n
}

function middleDue() {
  return marksPassed() > st.mark
}

function gcAllowed() {
  const elapsed = now() - (st.t0 || now())
  return st.gcSpent + (st.gcLast || 0) <= gcOverhead * elapsed
}

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
  const ms = Number(st.hr() - t0) / 1e6
  st.gcSpent += ms
  st.gcLast = ms
  return ms
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
  if (extra && extra.settled) st.settledHeap = m.heapUsed
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
const pairsLane = env.HEAPLENS_PAIRS === '1'
// A follow-up lane's pairs share what the overhead budget left of the lane whose files it reruns:
// $HEAPLENS_PAIRS_BUDGET seconds of snapshot writing. The file that grew most there ($HEAPLENS_PAIRS_FIRST,
// relative to the root) always gets its pair, once; another only while the pairs written so far plus this one's
// estimate (the measured write rate of the lane's last snapshot, per byte of heap) fit.
const pairsBudget = env.HEAPLENS_PAIRS_BUDGET ? Number(env.HEAPLENS_PAIRS_BUDGET) : Infinity
const pairsFirst = env.HEAPLENS_PAIRS_FIRST || null

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
  // The cost of a snapshot grows with the heap it writes: the measured write time and size per byte of
  // (GC-settled) heap of the most recent snapshot — this worker's, else its slot's, else the lane's — times the
  // heap now. Before any: ~40 MB/s and twice the heap on disk, plus a fixed 0.2 s.
  const ref = st.lastRef || (mine.length ? mine[mine.length - 1] : all.length ? all[all.length - 1] : null)
  const refHeap = ref && ref.heapUsed > 0 ? ref.heapUsed : 0
  const est = refHeap ? ref.seconds * (heapUsed / refHeap) : 0.2 + heapUsed / 40e6
  const estBytes = refHeap ? ref.bytes * (heapUsed / refHeap) : heapUsed * 2
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

// V8 (Node 20) writes each function's source location by scanning its script's source when the script has no
// line-end table: quadratic in large generated modules (a 3 MB module: 6.9 s for a 10 MB heap). Enabling the
// debugger for an instant makes V8 build that table for every script (it reports each script's end line), and
// the table stays: the same snapshot then takes 1.1-1.4 s. No breakpoint is set; it is disabled right away.
// Done once per worker, before its first snapshot: the tables are new objects held by the scripts, so doing it
// again before a later snapshot would plant growth (held by old scripts) between the two.
function primeLineEnds() {
  let session = null
  try {
    session = new inspector.Session()
    session.connect()
    session.post('Debugger.enable', () => {})
    session.post('Debugger.disable', () => {})
  } catch {
  } finally {
    try { if (session) session.disconnect() } catch {}
  }
}

function pairAllowed(file, heapUsed) {
  if (!allowed(2, true, heapUsed)) return false
  const written = ledger().filter((e) => e.ev === 'snapshot')
  // the largest file's pair is the lane's first, once: a file that several projects include runs once per
  // project (hono's jsx-dom files: three times), and only the first run is owed a pair
  const isFirst = (x) => {
    const f = String(x || '').split(path.sep).join('/')
    return Boolean(pairsFirst) && (f === pairsFirst || f.endsWith('/' + pairsFirst))
  }
  if (isFirst(file) && !written.some((e) => isFirst(e.file))) return true
  const spent = written.reduce((a, e) => a + (e.seconds || 0), 0)
  const ref = written.length ? written[written.length - 1] : null
  const est = ref && ref.heapUsed > 0 ? ref.seconds * (heapUsed / ref.heapUsed) : 0.2 + heapUsed / 40e6
  // the end snapshot holds the file's growth as well: two of this one's size is the least the pair costs
  if (spent + 2 * est <= pairsBudget) return true
  say('snapshot-skipped', 'pair-budget', { budget: pairsBudget, spent, estimate: 2 * est })
  return false
}

function snapshot(reason, at, file, settled) {
  const target = snapshotName()
  const rssBefore = settled ? settled.rss : st.memoryUsage().rss
  const t0 = st.hr()
  try {
    if (!st.primed) {
      // once, before the worker's first snapshot: the tables are then part of its earliest state (old), not
      // new objects held by old scripts in every later one
      st.primed = true
      primeLineEnds()
    }
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
  st.snaps += 1
  st.snapAt = st.ended
  const rssAfter = st.memoryUsage().rss
  const heapUsed = settled ? settled.heapUsed : st.memoryUsage().heapUsed
  const entry = { ev: 'snapshot', slot, pid: process.pid, tid: threadId, seconds, bytes, heapUsed, file, t: Math.round(now()) }
  st.lastRef = entry
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

// Issue 14 item 2: with --heapsnapshot-signal, Node's own listener (doWriteHeapSnapshot) throws when the disk is
// full — an uncaught exception in the middle of a test file, which the runner reports as an error of the run.
// Wrapped once per worker: a failed write is said (heaplens prints it once per lane and removes the cut file)
// and stops the lane's snapshots; the tests go on.
function guardSignalSnapshots() {
  const m = /--heapsnapshot-signal[= ](\w+)/.exec([...process.execArgv, env.NODE_OPTIONS || ''].join(' '))
  if (!m) return
  for (const listener of process.listeners(m[1])) {
    if (listener.heaplensGuard) continue
    const guarded = function (...args) {
      if (st.stopped) return
      try {
        return listener.apply(this, args)
      } catch (e) {
        const code = (e && e.code) || String(e)
        st.stopped = code
        say('snapshot-skipped', 'error', { error: code, message: String((e && e.message) || e).slice(0, 300) })
        if (ledgerPath) {
          try { st.append(ledgerPath, JSON.stringify({ ev: 'stop', reason: code, pid: process.pid, tid: threadId, t: Math.round(now()) }) + '\n') } catch {}
        }
      }
    }
    guarded.heaplensGuard = true
    process.removeListener(m[1], listener)
    process.on(m[1], guarded)
  }
}

if (!st.signalGuard) {
  st.signalGuard = true
  try { guardSignalSnapshots() } catch {}
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
  st.t0 = now()
  // the worker's baseline, after a full GC, before the file's imports
  const gcMs = fullGc()
  record('start', file, { heapLimit: v8.getHeapStatistics().heap_size_limit, settled: true, gcMs })
} else {
  record('start', file, { heapLimit: v8.getHeapStatistics().heap_size_limit, settled: false })
}

// After the file's collection (its imports and top-level code done, no test run yet): the GC-settled
// baseline of a worker per file, and its pair's first snapshot. A worker that runs several files gets its
// earliest snapshot here, on its first file: what that file's tests leave is then new in every later
// snapshot (a leak in a worker's first file is not hidden in its baseline), and a worker that gets a single
// file still has two.
if (perFile || (first && snapDir)) {
  beforeAll(() => {
    const gcMs = fullGc()
    const m = record('collected', file, { settled: true, gcMs })
    if (!snapDir) return
    if (!perFile) {
      if (allowed(1, true, m.heapUsed)) snapshot('first', 'collected', file, { ...m, gcMs })
      return
    }
    // A worker per file: the pair is taken in heaplens's follow-up lane ($HEAPLENS_PAIRS=1), which reruns the
    // files whose GC-settled growth inside the file was the largest in the lane; the lane itself only measures.
    if (pairsLane && pairAllowed(file, m.heapUsed) && snapshot('pair', 'collected', file, { ...m, gcMs })) {
      st.pairOpen = true
    }
  }, HOOK_TIMEOUT)
}

afterAll(() => {
  st.ended += 1
  st.lastFile = file
  if (perFile) {
    // a fresh worker's heap: its forced GC is cheap, and its end is the file's whole story
    const gcMs = fullGc()
    const m = record('end', file, { settled: true, gcMs })
    if (snapDir && st.pairOpen && allowed(1, true, m.heapUsed)) snapshot('pair', 'end', file, { ...m, gcMs })
    st.pairOpen = false
    return
  }
  // A worker that runs several files: first whether a snapshot is due (it needs the GC anyway), then
  // whether the GC budget allows a settled line without one.
  let reason = null
  let take = false
  if (snapDir && !st.stopped) {
    // the estimate's heap: the last GC-settled figure (the heap now holds garbage, up to a few times more)
    const heap = st.settledHeap || st.memoryUsage().heapUsed
    if (drained()) reason = 'last'
    else if (first) reason = 'first'
    if (reason) take = allowed(1, true, heap)
    else if (middleDue()) {
      take = allowed(1, false, heap)
      if (take) {
        reason = 'middle'
        st.mark = marksPassed()
      }
    }
  }
  const settle = take || first || gcAllowed()
  const gcMs = settle ? fullGc() : null
  const m = record('end', file, { settled: settle, gcMs })
  const taken = take && snapshot(reason, 'end', file, { ...m, gcMs })
  // no snapshot at this end: if it turns out to be the worker's last, the idle watch / stop message takes it
  if (snapDir && !taken && reason !== 'last' && !st.stopped) watchIdle(file, st.files)
}, HOOK_TIMEOUT)
