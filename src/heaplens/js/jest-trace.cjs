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
//
// What every runner shares (state, trace lines, GC, budgets, snapshots, file boundaries) is `trace-core.cjs`;
// this module says what is Jest's: how the worker runs, its budget slot, and the per-file entry points.

const fs = require('fs')
const { threadId } = require('worker_threads')
const { newState, tracer } = require('./trace-core.cjs')

const env = process.env
const st = newState({ project: '' })

function mainPid() {
  try { return Number(fs.readFileSync(env.HEAPLENS_MAIN_PID_FILE, 'utf8').trim()) || null } catch { return null }
}

// How this worker runs: a worker thread, the Jest process itself (in band), or a jest-worker child process.
const main = mainPid()
const pool = threadId !== 0 ? 'workerThreads' : (main === process.pid ? 'inBand' : 'workers')
const mainOf = pool === 'workers' ? process.ppid : process.pid
const slot = env.JEST_WORKER_ID && pool !== 'inBand' ? `${pool}:${env.JEST_WORKER_ID}` : `${process.pid}.${threadId}`
const poolId = env.JEST_WORKER_ID ?? null

const trace = tracer({
  st,
  slot,
  poolId,
  maxWorkers: pool === 'inBand' ? 1 : Math.max(1, Number(env.HEAPLENS_MAX_WORKERS || 1)),
  fields: () => ({ main: mainOf, poolId, workerId: poolId, pool, isolate: true, project: st.project || '' }),
})

// ------------------------------------------------------------------ what jest-setup.cjs calls, per test file
// Only strings and numbers cross from the test file's realm into this one.

function begin(file, project) {
  st.project = String(project || '')
  const first = trace.begin(String(file))
  // the worker's earliest snapshot is after its first file's collection: what that file's tests leave is new
  return first && Boolean(trace.snapDir)
}

function collected(file) {
  trace.collected(String(file))
}

function end(file) {
  st.ended += 1
  trace.end(String(file), st.ended === 1)
}

module.exports = { begin, collected, end, pool }
