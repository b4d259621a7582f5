// heaplens harness driver (started by `heaplens harness`; not meant to be run by hand).
//   node --expose-gc --import register.mjs runner.mjs CONFIG_JSON
// Runs a scenario's iteration function in batches, settles and forces GC after each batch, writes a
// heap snapshot after the baseline and each batch, and reports figures as "@@heaplens {json}" lines.
import v8 from 'node:v8';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { track, trackedCounts } from './track.mjs';

const cfg = JSON.parse(process.argv[2]);
const emit = (obj) => process.stdout.write('@@heaplens ' + JSON.stringify(obj) + '\n');
const fail = (phase, err) => {
  const message = err && err.stack ? String(err.stack) : String(err);
  emit({ event: 'error', phase, message });
  process.exit(2);
};
process.on('unhandledRejection', (err) => fail('unhandledRejection', err));
process.on('uncaughtException', (err) => fail('uncaughtException', err));

if (typeof globalThis.gc !== 'function') fail('setup', new Error('global.gc is missing (node must run with --expose-gc)'));

const tick = () => new Promise((r) => setImmediate(r));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function settle() {
  for (let i = 0; i < 4; i++) await tick();
  globalThis.gc();
  await sleep(100);
  globalThis.gc();
  await tick(); // let FinalizationRegistry callbacks run
  await tick();
}

let mod;
try {
  mod = await import(pathToFileURL(path.resolve(cfg.scenario)).href);
} catch (err) {
  fail('import', err);
}
let modes = mod.modes && typeof mod.modes === 'object' ? mod.modes : null;
const modeNames = modes ? Object.keys(modes).filter((k) => typeof modes[k] === 'function') : [];
let fn;
let modeName = cfg.mode;
if (cfg.mode) {
  fn = modes && typeof modes[cfg.mode] === 'function' ? modes[cfg.mode] : undefined;
  if (!fn && cfg.mode === 'default' && typeof mod.default === 'function') fn = mod.default;
  if (!fn) fail('mode', new Error(`the scenario has no mode "${cfg.mode}"` + (modeNames.length ? ` (modes: ${modeNames.join(', ')})` : ' (it exports no modes)')));
} else if (typeof mod.default === 'function') {
  fn = mod.default;
  modeName = 'default';
} else if (typeof mod.iteration === 'function') {
  fn = mod.iteration;
  modeName = 'iteration';
} else if (modeNames.length === 1) {
  modeName = modeNames[0];
  fn = modes[modeName];
} else if (modeNames.length > 1) {
  fail('mode', new Error(`the scenario exports several modes (${modeNames.join(', ')}); choose one with --mode`));
} else {
  fail('mode', new Error('the scenario exports no iteration function (export default, export function iteration, or export const modes = {...})'));
}

// Keep only what the harness calls, so retaining paths do not run through the scenario's exports.
const setup = typeof mod.setup === 'function' ? mod.setup : null;
const teardown = typeof mod.teardown === 'function' ? mod.teardown : null;
mod = null;
modes = null;

const state = globalThis.__heaplensHarness;
if (cfg.synthetic) state.synthetic = []; // the planted leak of the sensitivity run
const figures = () => {
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers, ...trackedCounts() };
};
const snapshot = (name) => v8.writeHeapSnapshot(path.join(cfg.outDir, name));

emit({ event: 'start', pid: process.pid, mode: modeName, modes: modeNames, node: process.version });
try {
  if (setup) await setup({ track, mode: modeName });
} catch (err) {
  fail('setup', err);
}
await settle();
const baselineFile = snapshot('baseline.heapsnapshot');
emit({ event: 'baseline', snapshot: baselineFile, ...figures() });

let n = 0;
for (let b = 1; b <= cfg.batches; b++) {
  for (let i = 0; i < cfg.iterations; i++) {
    try {
      await fn({ iteration: n, batch: b, mode: modeName, track });
    } catch (err) {
      fail('iteration', err);
    }
    n++;
  }
  await settle();
  const file = snapshot(`batch-${String(b).padStart(3, '0')}.heapsnapshot`);
  emit({ event: 'batch', batch: b, totalIterations: n, snapshot: file, ...figures() });
}
try {
  if (teardown) await teardown({ mode: modeName });
} catch (err) {
  fail('teardown', err);
}
emit({ event: 'done', totalIterations: n });
process.exit(0);
