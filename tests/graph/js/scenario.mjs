// Graph-test scenario: writes two snapshots of one process.
//   node scenario.mjs OUT_DIR COUNT
// snap-0: baseline (a few SessionRecords, WeakMap/WeakRef shapes present);
// snap-1: COUNT more SessionRecords in cache.mjs's module-level Map, plus objects only held
//         through a WeakMap value / a WeakRef, and a closure holding a record.
import v8 from 'node:v8';
import path from 'node:path';
import { remember, cacheSize } from './cache.mjs';

const [outDir, countArg] = process.argv.slice(2);
const count = Number(countArg);
class WeakOnly { constructor(i) { this.i = i; } }
class WeakMapValue { constructor(i) { this.i = i; this.pad = [i, i + 1]; } }
class WeakMapKey { constructor(i) { this.i = i; } }
const keys = [];
const wm = new WeakMap();
const refs = [];
globalThis.__scenario = { keys, wm, refs };
for (let i = 0; i < 3; i++) remember(-1 - i);
process.chdir(outDir);
const files = [];
files.push(path.resolve(v8.writeHeapSnapshot('snap-0.heapsnapshot')));
for (let i = 0; i < count; i++) remember(i);
for (let i = 0; i < 50; i++) {
  const k = new WeakMapKey(i);
  keys.push(k);
  wm.set(k, new WeakMapValue(i));
}
let holder = [];
for (let i = 0; i < 20; i++) { const o = new WeakOnly(i); holder.push(o); refs.push(new WeakRef(o)); }
const keep = remember(1e6);
class Café { constructor(i) { this.i = i; } }  // a non-ASCII class name (escaped in the file)
globalThis.__cafes = Array.from({ length: 7 }, (_, i) => new Café(i));
globalThis.__closure = () => keep.id;
files.push(path.resolve(v8.writeHeapSnapshot('snap-1.heapsnapshot')));
holder = null;
console.log(JSON.stringify({ pid: process.pid, files, cacheSize: cacheSize() }));
