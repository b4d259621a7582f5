// heaplens's memory trace and heap snapshots, the part every runner shares: the per-worker state, the trace lines,
// the forced GC, the snapshot budgets (ledger, stop entry, disk budget and free space, the overhead budget with
// its deferral), the line-end priming, the snapshot writing and the per-file boundaries of a worker that runs
// several files. The runners' setup modules load it with Node's own `require` — `trace-setup.mjs` (Vitest)
// through `createRequire`, `jest-trace.cjs` (Jest) directly — so there is one copy per worker (process or thread),
// outside any test file's realm and module registry, and they give it what differs: the state object, the
// worker's budget slot and pool id, the expected worker count, and the runner's fields of each trace line.
// The protocol it speaks is docs/runner.md's ("The protocol", "Memory trace", "Heap snapshots").
'use strict'

const fs = require('fs')
const inspector = require('inspector')
const path = require('path')
const timers = require('timers')
const v8 = require('v8')
const vm = require('vm')
const { threadId } = require('worker_threads')

// A worker's state: the same object for every file it runs. Real functions are captured once, so a test's fake
// timers or fs mocks never reach the trace. `extra`: the runner's own fields.
function newState(extra) {
  return {
    files: 0, // files started in this worker
    seq: 0,
    snaps: 0,
    said: {},
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
    snapSpent: 0, // ms of snapshot writing in this worker
    collectedMem: null, // heap used + external at its first file's collection snapshot (null: none written)
    gcLast: 0,
    t0: 0, // when its first file began
    mark: 0, // middle snapshots taken
    settledHeap: 0, // heap used at its last GC-settled line
    snapAt: -1, // `ended` when its last snapshot was written
    current: null, // the file running
    stopped: null, // why the lane's snapshots stopped
    primed: false, // line-end tables built
    endSettled: true, // its last file end has GC-settled figures (at the end, or by a later `settle` line)
    ...extra,
  }
}

const pad = (n, w = 2) => String(n).padStart(w, '0')

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

// From a worker's first snapshot on, V8 tracks every object its GC moves, so that the snapshot ids stay stable
// (the diagnosis compares them): each move is reported to the heap profiler under one lock, and the scavenger's
// parallel tasks contend on it. One scavenger thread does the same work without the contention
// (bench/js/snapshot_tracking.mjs on 2 cores: 658 -> 545 ms wall and 999 -> 566 ms CPU; date-fns's `investigate`
// ~0.15-0.3 s less: docs/performance.md, session 7). Set once, right after the worker's first snapshot; what the
// GC frees and keeps is the same (only how many threads V8's young-generation GC uses; V8 flags are per process,
// so a threads pool's other threads get it too).
const TRACKING_FLAGS = ['--no-parallel-scavenge']

// The trace of one worker. `st`: its state (newState); `slot`: its overhead-budget slot (the runner's pool slot,
// else pid.tid); `poolId`: the runner's pool/worker id for snapshot lines; `maxWorkers`: the most workers the lane
// can have (the middles' marks); `fields()`: the runner's fields of a trace line {main, poolId, workerId, pool,
// isolate, project}.
function tracer({ st, slot, poolId = null, maxWorkers, fields, env = process.env }) {
  const out = env.HEAPLENS_TRACE_FILE
  const now = () => st.epoch0 + Number(st.hr() - st.hr0) / 1e6

  // The per-file GC-settled line is the number for per-file growth, hotspots, baselines and verification. Its
  // forced GC grows with a long-lived worker's heap (~15 ms at 20 MB on an idle machine, ~70 ms on a busy one: up
  // to a third of a suite of 0.2 s files), so it has a budget: $HEAPLENS_GC_OVERHEAD (a fraction; heaplens passes
  // 0.1 by default, unset = every file end) — a file end is settled when the worker's GC time so far, plus the
  // last one's, stays within that share of the suite's own time in the worker since its first file began (less
  // heaplens's forced GCs and snapshot writing, which buy no more forced GCs); the first file end, every
  // snapshot boundary and the worker's last file end always are (the last one as soon as the worker knows it
  // was the last: at a drained end, when idle, or at the runner's stop). An end without the GC says
  // `settled: false`; the growth then spans the files since the previous settled end (`settle` line: the
  // settled figures of a last end that had none when it ended).
  const gcOverhead = env.HEAPLENS_GC_OVERHEAD ? Number(env.HEAPLENS_GC_OVERHEAD) : Infinity
  // Snapshots between a worker's first and last file end: at fixed shares of the files it is expected to run
  // (the lane's planned runs over the most workers it can have), so that the same files get them whatever the
  // machine's load and a trend has points in between. A middle that the overhead budget does not allow yet
  // waits for a later file end (said once); marks passed meanwhile are covered by the one snapshot taken.
  const MIDDLES = Math.max(0, Number(env.HEAPLENS_SNAPSHOT_MIDDLES ?? 1))
  const workers = maxWorkers ?? Math.max(1, Number(env.HEAPLENS_MAX_WORKERS || 1))
  const snapDir = env.HEAPLENS_SNAPSHOTS === '1' ? env.HEAPLENS_SNAPSHOT_DIR : null
  const overhead = Number(env.HEAPLENS_SNAPSHOT_OVERHEAD || 0.25)
  const diskBudget = env.HEAPLENS_SNAPSHOT_DISK ? Number(env.HEAPLENS_SNAPSHOT_DISK) : Infinity
  const laneT0 = Number(env.HEAPLENS_LANE_T0 || 0) || now()
  const ledgerPath = env.HEAPLENS_LEDGER
  const startedPath = env.HEAPLENS_STARTED
  const planned = Number(env.HEAPLENS_PLANNED || 0)
  // The diagnosis's floor (a share of the heap limit: below it a cause is a note, not a finding): a worker's
  // first file end is not written when the file's tests left less than this on the heap since its collection
  // snapshot — that snapshot then stands for the end (0: always written).
  const floorShare = Number(env.HEAPLENS_SNAPSHOT_FLOOR || 0)

  function marksPassed() {
    const expected = Math.max(1, Math.ceil(planned / workers))
    let n = 0
    for (let k = 1; k <= MIDDLES; k++) {
      const at = Math.round((expected * k) / (MIDDLES + 1))
      if (at > 1 && st.files >= at) n = k
    }
    return n
  }

  function gcAllowed() {
    const own = now() - (st.t0 || now()) - st.gcSpent - st.snapSpent
    return st.gcSpent + (st.gcLast || 0) <= gcOverhead * own
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

  function write(line) {
    if (!out) return
    try { st.append(out, JSON.stringify(line) + '\n') } catch {}
  }

  function record(ev, file, extra) {
    const m = st.memoryUsage()
    if (extra && extra.settled) st.settledHeap = m.heapUsed
    const f = fields()
    write({
      ev,
      pid: process.pid,
      ppid: process.ppid,
      tid: threadId,
      main: f.main, // the runner's main process
      file,
      t: Math.round(now()),
      rss: m.rss,
      heapUsed: m.heapUsed,
      heapTotal: m.heapTotal,
      external: m.external,
      arrayBuffers: m.arrayBuffers,
      poolId: f.poolId,
      workerId: f.workerId,
      pool: f.pool,
      isolate: f.isolate,
      project: f.project,
      n: st.files,
      ...extra,
    })
    return m
  }

  // a full GC, then a settled line: what a snapshot after it is given
  function measure(ev, file) {
    const gcMs = fullGc()
    const m = record(ev, file, { settled: true, gcMs })
    return { ...m, gcMs }
  }

  function ledger() {
    if (!ledgerPath) return []
    let text = ''
    try { text = st.read(ledgerPath, 'utf8') } catch { return [] }
    const lines = []
    for (const l of text.split('\n')) {
      if (!l) continue
      try { lines.push(JSON.parse(l)) } catch {}
    }
    return lines
  }

  function say(kind, reason, extra) {
    // one line per worker and reason: heaplens prints one per lane
    const key = `${kind}:${reason}`
    if (st.said[key]) return
    st.said[key] = true
    write({ ev: kind, reason, pid: process.pid, tid: threadId, file: st.current || null, t: Math.round(now()), ...extra })
  }

  // A snapshot write failed (ENOSPC, …): said once, and the lane's snapshots stop (a `stop` line in the ledger).
  function stopLane(e) {
    const code = (e && e.code) || String(e)
    st.stopped = code
    say('snapshot-skipped', 'error', { error: code, message: String((e && e.message) || e).slice(0, 300) })
    if (ledgerPath) {
      try { st.append(ledgerPath, JSON.stringify({ ev: 'stop', reason: code, pid: process.pid, tid: threadId, t: Math.round(now()) }) + '\n') } catch {}
    }
  }

  function snapshotName() {
    // Node's own pattern (Heap.YYYYMMDD.HHMMSS.PID.TID.SEQ.heapsnapshot): the sequence continues from any
    // snapshot of this PID/TID already in the directory (e.g. one Node wrote on a signal), so none is overwritten.
    // Four digits: Node numbers its own with three, from its own counter (it does not know heaplens's files), so
    // a signal in the same second as one of these never writes a file of the same name over it (Node's 1 is
    // `001`, heaplens's `0001`); the two counters' files are ordered by when they were written (snapshot/files.py
    // `in_order`).
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
    return path.join(snapDir, `Heap.${stamp}.${process.pid}.${threadId}.${pad(st.seq, 4)}.heapsnapshot`)
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

  // `settled`: the memory figures of the GC-settled line just written (null: none)
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
      try { st.unlink(target) } catch {}
      stopLane(e)
      return false
    }
    const seconds = Number(st.hr() - t0) / 1e9
    st.snapSpent += seconds * 1000
    let flags = null
    if (st.snaps === 0) { // the worker's first: V8 tracks the ids from now on
      flags = []
      for (const f of TRACKING_FLAGS) {
        try {
          v8.setFlagsFromString(f)
          flags.push(f)
        } catch {}
      }
    }
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
      poolId,
      ...(flags ? { v8Flags: flags } : {}),
    })
    return true
  }

  // A worker's last file end, once it is known to be the last (idle, or told to stop): GC-settled figures if
  // that end had none (a `settle` line for the file), and its snapshot if it has none yet.
  function finish(at, file) {
    const snap = Boolean(snapDir) && !st.stopped && st.ended > 0 && st.snapAt !== st.ended
    const settle = st.ended > 0 && !st.endSettled
    if (!snap && !settle) return
    const gcMs = fullGc()
    const m = settle ? record('settle', file, { settled: true, gcMs, at }) : st.memoryUsage()
    st.endSettled = true
    if (snap && allowed(1, true, m.heapUsed)) snapshot('last', at, file, { ...m, gcMs })
  }

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
      finish('idle', file)
    }, 25)
    if (st.idle && st.idle.unref) st.idle.unref()
  }

  // A file starts (before its imports): counted in the lane's started-files counter; the worker's first file
  // measures its baseline after a full GC. Returns whether it is the worker's first.
  function begin(file) {
    stopIdle()
    if (startedPath) {
      try { st.append(startedPath, '.') } catch {}
    }
    st.files += 1
    st.current = file
    const first = st.files === 1
    if (first) {
      st.t0 = now()
      const gcMs = fullGc()
      record('start', file, { heapLimit: v8.getHeapStatistics().heap_size_limit, settled: true, gcMs })
    } else {
      record('start', file, { heapLimit: v8.getHeapStatistics().heap_size_limit, settled: false })
    }
    return first
  }

  // After the collection of a worker's first file: its earliest snapshot (what that file's tests leave is new)
  function collected(file) {
    const m = measure('collected', file)
    if (allowed(1, true, m.heapUsed) && snapshot('first', 'collected', file, m)) st.collectedMem = m.heapUsed + m.external
  }

  // The first file end of a worker that has its collection snapshot: what the file's tests left on the
  // (GC-settled) heap and in external memory since, when that is less than the floor — the end would repeat
  // that snapshot (null: it would not).
  function repeatsCollected(m) {
    if (!(floorShare > 0) || st.collectedMem === null) return null
    const floor = floorShare * v8.getHeapStatistics().heap_size_limit
    const grew = m.heapUsed + m.external - st.collectedMem
    return grew < floor ? { grew, floor } : null
  }

  // The end of a file in a worker that runs several (`st.ended` already counts it; `first`: its first file).
  function end(file, first) {
    // first whether a snapshot is due (it needs the GC anyway), then whether the GC budget allows a settled
    // line without one
    let reason = null
    let take = false
    // whether the lane has started every planned file (a stat): asked only when a snapshot or the GC budget needs it
    let last = null
    const isLast = () => (last === null ? (last = drained()) : last)
    if (snapDir && !st.stopped) {
      // the estimate's heap: the last GC-settled figure (the heap now holds garbage, up to a few times more)
      const heap = st.settledHeap || st.memoryUsage().heapUsed
      if (isLast()) reason = 'last'
      else if (first) reason = 'first'
      if (reason) take = allowed(1, true, heap)
      else if (marksPassed() > st.mark) {
        take = allowed(1, false, heap)
        if (take) {
          reason = 'middle'
          st.mark = marksPassed()
        }
      }
    }
    const settle = take || first || gcAllowed() || isLast()
    const gcMs = settle ? fullGc() : null
    const m = record('end', file, { settled: settle, gcMs })
    st.endSettled = settle
    const repeats = take && reason === 'first' ? repeatsCollected(m) : null
    if (repeats) {
      take = false
      say('snapshot-skipped', 'unchanged', { file, ...repeats })
    }
    const taken = take && snapshot(reason, 'end', file, { ...m, gcMs })
    // no snapshot (or no settled line) at this end: if it turns out to be the worker's last, the idle watch (or
    // the runner's stop message) takes it
    if ((snapDir && !taken && reason !== 'last' && !st.stopped) || !settle) watchIdle(file, st.files)
  }

  return {
    snapDir, ledgerPath, now, write, record, measure, ledger, say, stopLane, allowed, snapshot,
    stopIdle, begin, collected, end, finish, gcBudget: gcOverhead !== Infinity,
  }
}

module.exports = { newState, tracer }
