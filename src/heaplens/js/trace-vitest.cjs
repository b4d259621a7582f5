'use strict'
// heaplens memory trace and heap snapshots in a Vitest worker: what `trace-setup.mjs` (injected by `heaplens run` as
// the first Vitest setup file) does for each test file. It runs inside the worker (a child process with
// forks/vmForks, a worker thread with threads/vmThreads) before each test file, and appends one JSON line per event
// to $HEAPLENS_TRACE_FILE with appendFileSync (one write(2) per line, O_APPEND): a line is on disk the moment it
// happens and survives the worker dying right after.
//
// Events (docs/runner.md, "Memory trace"):
//   start      the file begins (before its imports); the worker's first file also measures after a full GC
//   collected  after the file's imports and collection (a beforeAll registered here runs first), after a full
//              GC: for a worker per file (isolate with forks/threads), and for a worker's first file when it
//              may get a single one
//   end        the file is done (an afterAll registered here runs last); after a full GC for a worker per file,
//              at snapshot boundaries, a worker's first and last file end, and as the GC budget allows (`settled`)
//   settle     a worker's last file end, GC-settled once it is known to be the last (idle, or told to stop)
//              when its `end` line was not
//   snapshot   a heap snapshot written by this worker (v8.writeHeapSnapshot: the calling isolate's heap)
//   snapshot-deferred / snapshot-skipped   why a boundary got no snapshot (said once per worker and reason)
//
// Snapshots ($HEAPLENS_SNAPSHOTS=1) are taken at test-file boundaries, after a forced full GC:
// - a worker that runs several files (isolate: false, or a vm pool): after its first file's collection, the end
//   of its first file (unless its tests left less than $HEAPLENS_SNAPSHOT_FLOOR of the heap limit since then: the
//   collection snapshot stands for it), the end of its last file, and middles at fixed shares of the files it is
//   expected to run when the overhead budget allows. A worker knows its file was its
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
//
// What every runner shares (state, trace lines, GC, budgets, snapshots, file boundaries of a worker that runs
// several files) is `trace-core.cjs`. This module says what is Vitest's: its worker config, the pairs of a worker
// per file, the `stop` message, and the hooks. Both are loaded with Node's own require: one copy per worker,
// outside Vitest's module graph and the files' vm contexts.
//
// Vitest imports a setup file again for every test file, through its module runner (fetched from the main
// process, compiled, run). `trace-setup.mjs` is therefore a few lines without a static import: a static
// `import … from 'vitest'` alone cost ~0.4 ms per file (date-fns, 250 files: Vitest's `setup` 0.3 s against 0.18 s
// for an empty file, and 0.19 s for this). Its first file in a worker imports 'vitest' and calls `setup(vitest)`;
// in a forks or threads worker `vitest` is one module for all the worker's files, so `setup` leaves a function on
// `process` that the next files' setup calls with the same hooks (vm pools evaluate modules per context: each of
// their files imports 'vitest' again and calls `setup`).
const path = require('node:path')
const { parentPort, threadId } = require('node:worker_threads')

const { newState, tracer } = require('./trace-core.cjs')

// the function the next files' setup calls (forks and threads: see above)
const NEXT = Symbol.for('heaplens.trace.vitest')
const VM_POOLS = ['vmThreads', 'vmForks']

const env = process.env
const KEY = Symbol.for('heaplens.trace')
const HOOK_TIMEOUT = 3_600_000

// Per worker (process or thread) state, kept on `process`: the same object for every file a worker runs,
// also in vm pools, where each file has a new global object.
function state() {
  let st = process[KEY]
  if (st) return st
  st = newState({ pairOpen: false, lastFile: null, stopHook: false })
  Object.defineProperty(process, KEY, { value: st, enumerable: false, configurable: true })
  return st
}

function currentFile(expect) {
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

// ------------------------------------------------------------------ pairs (a worker per file)
const pairsLane = env.HEAPLENS_PAIRS === '1'
// A follow-up lane's pairs share what the overhead budget left of the lane whose files it reruns:
// $HEAPLENS_PAIRS_BUDGET seconds of snapshot writing. The file that grew most there ($HEAPLENS_PAIRS_FIRST,
// relative to the root) always gets its pair, once; another only while the pairs written so far plus this one's
// estimate (the measured write rate of the lane's last snapshot, per byte of heap) fit.
const pairsBudget = env.HEAPLENS_PAIRS_BUDGET ? Number(env.HEAPLENS_PAIRS_BUDGET) : Infinity
const pairsFirst = env.HEAPLENS_PAIRS_FIRST || null

function pairAllowed(trace, file, heapUsed) {
  if (!trace.allowed(2, true, heapUsed)) return false
  const written = trace.ledger().filter((e) => e.ev === 'snapshot')
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
  trace.say('snapshot-skipped', 'pair-budget', { budget: pairsBudget, spent, estimate: 2 * est })
  return false
}

// ------------------------------------------------------------------ a worker's last file
// Vitest >= 4 stops a worker with a `stop` message as soon as no file is left for it. Its handler is async
// (it first awaits the running file); this listener, registered after it, runs synchronously in the same
// dispatch, so the snapshot of the worker's last file end is written before the worker tears down.
// It also settles that end when the GC budget left it without a forced GC. Registered once per worker, with
// the trace of the file that registers it.
function watchStop(st, trace, perFile, threadPool) {
  function lastAtStop() {
    trace.stopIdle()
    if (perFile || st.ended === 0) return
    trace.finish('stop', st.lastFile)
  }

  function onMessage(msg) {
    if (msg && typeof msg === 'object' && msg.type === 'stop') {
      try { lastAtStop() } catch {}
    }
  }

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
function guardSignalSnapshots(st, trace) {
  const m = /--heapsnapshot-signal[= ](\w+)/.exec([...process.execArgv, env.NODE_OPTIONS || ''].join(' '))
  if (!m) return
  for (const listener of process.listeners(m[1])) {
    if (listener.heaplensGuard) continue
    const guarded = function (...args) {
      if (st.stopped) return
      try {
        return listener.apply(this, args)
      } catch (e) {
        trace.stopLane(e)
      }
    }
    guarded.heaplensGuard = true
    process.removeListener(m[1], listener)
    process.on(m[1], guarded)
  }
}

// ------------------------------------------------------------------ one test file
// A test file's part, with the hooks of the 'vitest' module its setup imported (or the worker's first file did).
// Returns the worker's config as this file sees it.
function testFile({ afterAll, beforeAll, expect }) {
  const st = state()
  const cfg = workerConfig()
  // forks/threads with isolate: every test file gets a fresh worker; vm pools keep theirs (a new context per file).
  const perFile = cfg.isolate && (cfg.pool === 'forks' || cfg.pool === 'threads')
  const threadPool = cfg.pool === 'threads' || cfg.pool === 'vmThreads'
  const slot = env.VITEST_POOL_ID ? `${cfg.pool}:${env.VITEST_POOL_ID}` : `${process.pid}.${threadId}`
  const fields = {
    main: threadPool ? process.pid : process.ppid, // Vitest's main process
    poolId: env.VITEST_POOL_ID ?? null,
    workerId: env.VITEST_WORKER_ID ?? null,
    pool: cfg.pool,
    isolate: cfg.isolate,
    project: cfg.project,
  }
  const trace = tracer({ st, slot, poolId: fields.poolId, fields: () => fields })
  const { snapDir } = trace

  if ((snapDir || trace.gcBudget) && !perFile && !st.stopHook) watchStop(st, trace, perFile, threadPool)
  if (!st.signalGuard) {
    st.signalGuard = true
    try { guardSignalSnapshots(st, trace) } catch {}
  }

  const file = currentFile(expect)
  const first = trace.begin(file)

  // After the file's collection (its imports and top-level code done, no test run yet): the GC-settled
  // baseline of a worker per file, and its pair's first snapshot. A worker that runs several files gets its
  // earliest snapshot here, on its first file: what that file's tests leave is then new in every later
  // snapshot (a leak in a worker's first file is not hidden in its baseline), and a worker that gets a single
  // file still has two.
  if (perFile || (first && snapDir)) {
    beforeAll(() => {
      if (!perFile) {
        trace.collected(file)
        return
      }
      const m = trace.measure('collected', file)
      // A worker per file: the pair is taken in heaplens's follow-up lane ($HEAPLENS_PAIRS=1), which reruns the
      // files whose GC-settled growth inside the file was the largest in the lane; the lane itself only measures.
      if (snapDir && pairsLane && pairAllowed(trace, file, m.heapUsed) && trace.snapshot('pair', 'collected', file, m)) {
        st.pairOpen = true
      }
    }, HOOK_TIMEOUT)
  }

  afterAll(() => {
    st.ended += 1
    st.lastFile = file
    if (perFile) {
      // a fresh worker's heap: its forced GC is cheap, and its end is the file's whole story
      const m = trace.measure('end', file)
      if (snapDir && st.pairOpen && trace.allowed(1, true, m.heapUsed)) trace.snapshot('pair', 'end', file, m)
      st.pairOpen = false
      return
    }
    // a worker that runs several files
    trace.end(file, first)
  }, HOOK_TIMEOUT)
  return cfg
}

// The setup of a test file that imported 'vitest' itself: its part, and in a forks or threads worker the function
// the worker's next files' setup calls instead of importing 'vitest' again.
function setup(vitest) {
  const cfg = testFile(vitest)
  if (!VM_POOLS.includes(cfg.pool) && !process[NEXT]) {
    Object.defineProperty(process, NEXT, { value: () => testFile(vitest), enumerable: false, configurable: true })
  }
}

module.exports = { setup }
