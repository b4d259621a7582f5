// The plant probe: a Vitest setup file that takes GC-settled heap snapshots of the worker at test-file
// boundaries, and can apply the scenario's labelled fix after the last one and snapshot again, so the
// corpus test can count the planted objects (and check that the fix releases them) without heaplens.
//
// Environment (set by tests/scenarios/plants.py):
//   PLANT_PROBE_VITEST the scenario's vitest/dist/index.js (its hooks)
//   PLANT_PROBE_OUT    directory for the snapshots and probe.jsonl: one JSON line per file ('file')
//                      and per snapshot ('start', 'end', 'fixed'): pid, tid, ordinal, file, memoryUsage
//   PLANT_PROBE_MODE   first-last: the end of the worker's 1st and PLANT_PROBE_FILES-th file (then the fix)
//                      every:      the end of every file (several workers; no fix)
//                      per-file:   the start (after the file's imports, before its tests) and the end of
//                                  every file, then the fix (isolate:true: a fresh worker per file)
//   PLANT_PROBE_FILES  first-last: the number of files the worker runs
//   PLANT_PROBE_FIX    the scenario's fix module (scripts/fixes/<dir>.mjs): export default async (probe) => …
//   PLANT_PROBE_FIX_FILES per-file: the files to fix (comma-separated; default: every file)
//   PLANT_PROBE_TIMERS 1: remember the timers the suite creates (WeakRefs), for a clear-timer fix
import { appendFileSync } from 'node:fs'
import net from 'node:net'
import { join, relative } from 'node:path'
import { pathToFileURL } from 'node:url'
import v8 from 'node:v8'
import { threadId } from 'node:worker_threads'

// The scenario's own Vitest (v3/v4/v5 installs differ): hooks from this file's `vitest` would be another copy's.
const vitest = await import(pathToFileURL(process.env.PLANT_PROBE_VITEST).href)
const { afterAll, beforeAll } = vitest
const OUT = process.env.PLANT_PROBE_OUT
const MODE = process.env.PLANT_PROBE_MODE || 'first-last'
const LAST = Number(process.env.PLANT_PROBE_FILES || 0)
const FIX = process.env.PLANT_PROBE_FIX || ''
const FIX_FILES = process.env.PLANT_PROBE_FIX_FILES ? process.env.PLANT_PROBE_FIX_FILES.split(',') : null

function install() {
  const state = { ordinal: 0, seq: 0, timers: [], exitListeners: process.listeners('exit') }
  if (process.env.PLANT_PROBE_TIMERS === '1') {
    for (const name of ['setTimeout', 'setInterval']) {
      const original = globalThis[name]
      globalThis[name] = function (...args) {
        const timer = original.apply(this, args)
        if (timer && typeof timer === 'object') state.timers.push(new WeakRef(timer))
        return timer
      }
    }
  }
  return state
}

const state = (globalThis.__plantProbe ??= install())
state.ordinal++
const ordinal = state.ordinal
// the test file this setup run belongs to (Vitest 3–5 keep it in the worker state)
const file = relative(process.cwd(), globalThis.__vitest_worker__?.filepath ?? '') || null

function record(phase, snapshot = null) {
  const m = process.memoryUsage()
  appendFileSync(join(OUT, 'probe.jsonl'), JSON.stringify({
    pid: process.pid, tid: threadId, ordinal, phase, file, snapshot,
    heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers,
  }) + '\n')
}

function snapshot(phase) {
  state.seq++
  const name = `${process.pid}.${threadId}.${String(state.seq).padStart(3, '0')}.${phase}.heapsnapshot`
  record(phase, v8.writeHeapSnapshot(join(OUT, name))) // a full GC first: the snapshot is GC-settled
}

async function applyFix() {
  if (!FIX) return
  const fix = (await import(pathToFileURL(FIX).href)).default
  await fix({
    vitest,
    // the module instance the tests use (same module runner, same id)
    load: (rel) => import(pathToFileURL(join(process.cwd(), rel)).href),
    timers: () => state.timers.map((r) => r.deref()).filter(Boolean),
    exitListenersAdded: () => process.listeners('exit').filter((f) => !state.exitListeners.includes(f)),
    servers: () => process._getActiveHandles().filter((h) => h instanceof net.Server),
    // Node's EventTarget keeps its listeners in an own Map under Symbol(kEvents); no public API lists them
    removeAllEventListeners: (target) => {
      const key = Object.getOwnPropertySymbols(target).find((s) => s.description === 'kEvents')
      if (!key) throw new Error('no kEvents map on this EventTarget (Node internals changed?)')
      target[key].clear()
    },
  })
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve)) // async closes settle
  snapshot('fixed')
}

// Writing a snapshot takes seconds on a busy machine: no hook timeout of the suite's applies to the probe.
const NO_TIMEOUT = 3_600_000

beforeAll(() => {
  if (MODE === 'per-file') snapshot('start')
}, NO_TIMEOUT)

afterAll(async () => {
  record('file') // every file, with or without a snapshot: which worker ran it, as its how-many-th
  if (MODE === 'every' || MODE === 'per-file' || ordinal === 1 || ordinal === LAST) snapshot('end')
  if (MODE === 'first-last' && ordinal === LAST) await applyFix()
  if (MODE === 'per-file' && (!FIX_FILES || FIX_FILES.includes(file))) await applyFix()
}, NO_TIMEOUT)
