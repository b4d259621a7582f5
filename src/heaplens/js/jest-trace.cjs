// heaplens memory trace and heap snapshots for Jest: the per-worker half. It is loaded once per worker (a
// jest-worker child process, a worker thread with `workerThreads`, or the Jest process itself in band) by
// `jest-setup.cjs`, the setup file heaplens puts first in every project's `setupFilesAfterEnv`, through Node's
// own `require` — outside the test file's VM context and module registry, so that its state lives as long as the
// worker does and nothing of it belongs to a test file's realm (Jest gives every test file a fresh registry and
// global; a value created there and kept here would keep that file's whole registry alive).
//
// It speaks the protocol of `trace-setup.mjs` (docs/runner.md, "Memory trace"): JSON lines appended to
// $HEAPLENS_TRACE_FILE — `start`, `collected` (after the file's imports, before its tests), `end` (after its last
// afterAll), GC-settled where said — and heap snapshots written with v8.writeHeapSnapshot at test-file boundaries
// after a forced full GC: a worker's first file after its collection and at its end, its last file's end, and a
// middle within the overhead budget ($HEAPLENS_SNAPSHOT_OVERHEAD of the lane's time, per worker slot; disk
// budget $HEAPLENS_SNAPSHOT_DISK), named as Node names them (Heap.<date>.<time>.<pid>.<tid>.<seq>.heapsnapshot).
// A Jest worker always runs many files (there is no worker per file), so a worker's last file is known when the
// lane has started every planned file ($HEAPLENS_STARTED vs $HEAPLENS_PLANNED), or while it waits idle after.
'use strict'

const fs = require('fs')
const inspector = require('inspector')
const path = require('path')
const timers = require('timers')
const v8 = require('v8')
const vm = require('vm')
const { threadId } = require('worker_threads')

const env = process.env
const out = env.HEAPLENS_TRACE_FILE
const hr = process.hrtime.bigint
const epoch0 = Date.now()
const hr0 = hr()
const now = () => epoch0 + Number(hr() - hr0) / 1e6
const memoryUsage = process.memoryUsage.bind(process)
const append = fs.appendFileSync

const st = {
  files: 0, seq: 0, snaps: 0, said: {}, lastRef: null, idle: null, gc: null, ended: 0, gcSpent: 0, gcLast: 0,
  t0: 0, mark: 0, settledHeap: 0, snapAt: -1, current: null, stopped: null, primed: false,
}

function mainPid() {
  try { return Number(fs.readFileSync(env.HEAPLENS_MAIN_PID_FILE, 'utf8').trim()) || null } catch { return null }
}

// How this worker runs: a worker thread, the Jest process itself (in band), or a jest-worker child process.
const main = mainPid()
const pool = threadId !== 0 ? 'workerThreads' : (main === process.pid ? 'inBand' : 'workers')
const mainOf = pool === 'workers' ? process.ppid : process.pid
const slot = env.JEST_WORKER_ID && pool !== 'inBand' ? `${pool}:${env.JEST_WORKER_ID}` : `${process.pid}.${threadId}`

const gcOverhead = env.HEAPLENS_GC_OVERHEAD ? Number(env.HEAPLENS_GC_OVERHEAD) : Infinity
const MIDDLES = Math.max(0, Number(env.HEAPLENS_SNAPSHOT_MIDDLES ?? 1))
const snapDir = env.HEAPLENS_SNAPSHOTS === '1' ? env.HEAPLENS_SNAPSHOT_DIR : null
const overhead = Number(env.HEAPLENS_SNAPSHOT_OVERHEAD || 0.25)
const diskBudget = env.HEAPLENS_SNAPSHOT_DISK ? Number(env.HEAPLENS_SNAPSHOT_DISK) : Infinity
const laneT0 = Number(env.HEAPLENS_LANE_T0 || 0) || now()
const ledgerPath = env.HEAPLENS_LEDGER
const startedPath = env.HEAPLENS_STARTED
const planned = Number(env.HEAPLENS_PLANNED || 0)

function marksPassed() {
  const maxWorkers = pool === 'inBand' ? 1 : Math.max(1, Number(env.HEAPLENS_MAX_WORKERS || 1))
  const expected = Math.max(1, Math.ceil(planned / maxWorkers))
  let n = 0
  for (let k = 1; k <= MIDDLES; k++) {
    const at = Math.round((expected * k) / (MIDDLES + 1))
    if (at > 1 && st.files >= at) n = k
  }
  return n
}

function gcAllowed() {
  const elapsed = now() - (st.t0 || now())
  return st.gcSpent + (st.gcLast || 0) <= gcOverhead * elapsed
}

function fullGc() {
  // a forced full GC without exposing `gc` to the tests: the flag is set for one new context, then cleared
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
  const t0 = hr()
  try { st.gc() } catch {}
  const ms = Number(hr() - t0) / 1e6
  st.gcSpent += ms
  st.gcLast = ms
  return ms
}

function write(line) {
  if (!out) return
  try { append(out, JSON.stringify(line) + '\n') } catch {}
}

function record(ev, file, extra) {
  const m = memoryUsage()
  if (extra && extra.settled) st.settledHeap = m.heapUsed
  write({
    ev, pid: process.pid, ppid: process.ppid, tid: threadId, main: mainOf, file, t: Math.round(now()),
    rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers,
    poolId: env.JEST_WORKER_ID ?? null, workerId: env.JEST_WORKER_ID ?? null, pool, isolate: true,
    project: st.project || '', n: st.files, ...extra,
  })
  return m
}

function ledger() {
  if (!ledgerPath) return []
  let text = ''
  try { text = fs.readFileSync(ledgerPath, 'utf8') } catch { return [] }
  const lines = []
  for (const l of text.split('\n')) {
    if (!l) continue
    try { lines.push(JSON.parse(l)) } catch {}
  }
  return lines
}

function say(kind, reason, extra) {
  const key = `${kind}:${reason}`
  if (st.said[key]) return
  st.said[key] = true
  write({ ev: kind, reason, pid: process.pid, tid: threadId, file: st.current || null, t: Math.round(now()), ...extra })
}

const pad = (n, w = 2) => String(n).padStart(w, '0')

function snapshotName() {
  const mine = new RegExp(`^Heap\\.\\d{8}\\.\\d{6}\\.${process.pid}\\.${threadId}\\.(\\d+)\\.heapsnapshot$`)
  try {
    for (const name of fs.readdirSync(snapDir)) {
      const m = mine.exec(name)
      if (m) st.seq = Math.max(st.seq, Number(m[1]))
    }
  } catch {}
  st.seq += 1
  const d = new Date(now())
  const stamp = `${d.getFullYear()}${pad(d.getMonth() + 1)}${pad(d.getDate())}.${pad(d.getHours())}${pad(d.getMinutes())}${pad(d.getSeconds())}`
  return path.join(snapDir, `Heap.${stamp}.${process.pid}.${threadId}.${pad(st.seq, 3)}.heapsnapshot`)
}

function allowed(count, force, heapUsed) {
  if (!snapDir || st.stopped) return false
  const entries = ledger()
  const stop = entries.find((e) => e.ev === 'stop')
  if (stop) {
    st.stopped = stop.reason
    return false
  }
  const mine = entries.filter((e) => e.ev === 'snapshot' && e.slot === slot)
  const all = entries.filter((e) => e.ev === 'snapshot')
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
    if (fs.statfsSync) {
      const s = fs.statfsSync(snapDir)
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
  const wait = (spent + cost) / overhead - cost - elapsed
  say('snapshot-deferred', 'budget', { spent, elapsed, estimate: est, overhead, slot, wait })
  return false
}

// once per worker, before its first snapshot: V8 builds every script's line-end table (trace-setup.mjs says why)
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

function snapshot(reason, at, file, settled) {
  const target = snapshotName()
  const t0 = hr()
  try {
    if (!st.primed) {
      st.primed = true
      primeLineEnds()
    }
    v8.writeHeapSnapshot(target)
  } catch (e) {
    const code = (e && e.code) || String(e)
    try { fs.unlinkSync(target) } catch {}
    st.stopped = code
    say('snapshot-skipped', 'error', { error: code, message: String((e && e.message) || e).slice(0, 300) })
    if (ledgerPath) {
      try { append(ledgerPath, JSON.stringify({ ev: 'stop', reason: code, pid: process.pid, tid: threadId, t: Math.round(now()) }) + '\n') } catch {}
    }
    return false
  }
  const seconds = Number(hr() - t0) / 1e9
  let bytes = 0
  try { bytes = fs.statSync(target).size } catch {}
  st.snaps += 1
  st.snapAt = st.ended
  const entry = { ev: 'snapshot', slot, pid: process.pid, tid: threadId, seconds, bytes, heapUsed: settled.heapUsed, t: Math.round(now()) }
  st.lastRef = entry
  if (ledgerPath) {
    try { append(ledgerPath, JSON.stringify(entry) + '\n') } catch {}
  }
  write({
    ...entry, path: target, file, reason, at, n: st.files, heapUsed: settled.heapUsed, external: settled.external,
    rssBefore: settled.rss, rssAfter: memoryUsage().rss, poolId: env.JEST_WORKER_ID ?? null,
  })
  return true
}

function drained() {
  if (!startedPath || !planned) return false
  try { return fs.statSync(startedPath).size >= planned } catch { return false }
}

function stopIdle() {
  if (st.idle) {
    timers.clearInterval(st.idle)
    st.idle = null
  }
}

// After a file end without a snapshot: if this worker gets no other file and the lane has started every planned
// file, its last file has ended — snapshot it now, while it waits for Jest to end it.
function watchIdle(file, filesAtEnd) {
  stopIdle()
  st.idle = timers.setInterval(() => {
    if (st.files !== filesAtEnd) return stopIdle()
    if (!drained()) return
    stopIdle()
    if (st.snapAt === st.ended) return
    const gcMs = fullGc()
    const m = memoryUsage()
    if (allowed(1, true, m.heapUsed)) snapshot('last', 'idle', file, { ...m, gcMs })
  }, 25)
  if (st.idle && st.idle.unref) st.idle.unref()
}

// ------------------------------------------------------------------ what jest-setup.cjs calls, per test file
// Only strings and numbers cross from the test file's realm into this one.

function begin(file, project) {
  stopIdle()
  if (startedPath) {
    try { append(startedPath, '.') } catch {}
  }
  st.files += 1
  st.current = String(file)
  st.project = String(project || '')
  const first = st.files === 1
  if (first) {
    st.t0 = now()
    const gcMs = fullGc()
    record('start', st.current, { heapLimit: v8.getHeapStatistics().heap_size_limit, settled: true, gcMs })
  } else {
    record('start', st.current, { heapLimit: v8.getHeapStatistics().heap_size_limit, settled: false })
  }
  // the worker's earliest snapshot is after its first file's collection: what that file's tests leave is new
  return first && Boolean(snapDir)
}

function collected(file) {
  const gcMs = fullGc()
  const m = record('collected', String(file), { settled: true, gcMs })
  if (allowed(1, true, m.heapUsed)) snapshot('first', 'collected', String(file), { ...m, gcMs })
}

function end(file) {
  file = String(file)
  st.ended += 1
  const first = st.ended === 1
  let reason = null
  let take = false
  if (snapDir && !st.stopped) {
    const heap = st.settledHeap || memoryUsage().heapUsed
    if (drained()) reason = 'last'
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
  const settle = take || first || gcAllowed()
  const gcMs = settle ? fullGc() : null
  const m = record('end', file, { settled: settle, gcMs })
  const taken = take && snapshot(reason, 'end', file, { ...m, gcMs })
  if (snapDir && !taken && reason !== 'last' && !st.stopped) watchIdle(file, st.files)
}

module.exports = { begin, collected, end, pool }
