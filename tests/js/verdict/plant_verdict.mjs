// Plants one known shape between two heap snapshots of this process, for the verdict tests.
//   node plant_verdict.mjs SCENARIO OUT_DIR [N …]
// The fixture project's modules (fixture/src) are evaluated by runner.mjs, a miniature of Vitest's
// module runner (block contexts, an EvaluatedModuleNode registry that is never cleared); the
// "test files" are modules too (fixture/test/*.test.js, from source strings). Snapshots get Node's own
// names (Heap.<date>.<time>.<pid>.<tid>.<seq>.heapsnapshot). Prints {"pid", "files", "expect"}.
//
//   emitter T L K   T test files each add L listeners to `bus` (src/bus.js), each closing over an
//                   array of K plain objects {id, payload}
//   memo N          a test file resolves N new routes through `resolver` (src/resolver.js), whose
//                   memo Map keeps a {route, parts, params} per route
//   mixed M C       a test file places M `Order`s into `orders` (src/orders.js) and loads C new
//                   generated modules (module instances that did not exist before)
//   modules C       C new generated modules only
//   buffers N S     a test file keeps N Buffers of S bytes in `uploads` (src/blobs.js)
//   newmodule N S   a test file first evaluated between the snapshots keeps N Buffers in its own
//                   module-level array `keep` (also globalThis.__keptUploads)
//   objectmap N     a test file registers N `Handler`s in `handlersById` (src/registry.js), a plain
//                   object used as a map
//   late T M        three snapshots: none of src/ledger.js before the first; test file 0 loads it and
//                   posts M `LedgerEntry`s into its module-level `entries`; second snapshot; test files
//                   1..T-1 post M each; third snapshot
//   reeval C R      a test file loads C generated modules; first snapshot; they are dropped from the
//                   registry (as `vi.resetModules()` does) and collected; a second test file loads them
//                   again (R=same: the same sources, R=other: C other modules); second snapshot. V8 gives
//                   some of the new objects (scripts, functions, strings) the snapshot ids of dead ones
//                   whose memory they took: only module instances are new, nothing old grew
import v8 from 'node:v8';
import vm from 'node:vm';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { load } from './runner.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixture = path.join(here, 'fixture');
const [scenario, outArg, ...nums] = process.argv.slice(2);
const outDir = path.resolve(outArg);
const n = nums.map(Number);
process.chdir(fixture);
const src = (f) => path.join(fixture, 'src', f);
const testFile = (name) => path.join(fixture, 'test', name);
const files = [];
const snap = () => files.push(path.resolve(outDir, path.basename(v8.writeHeapSnapshot(path.join(outDir, defaultName())))));
let seq = 0;
function defaultName() {
  const d = new Date();
  const p = (x, w = 2) => String(x).padStart(w, '0');
  const date = `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}`;
  const time = `${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
  return `Heap.${date}.${time}.${process.pid}.0.${p(++seq, 3)}.heapsnapshot`;
}

function catalog(i) {
  const fns = [];
  for (let k = 0; k < 60; k++) {
    fns.push(`export function item${k}_${i}(x) { const label = ${JSON.stringify(`catalog ${i} item ${k} `.repeat(90))}; return label.length + x * ${k}; }`);
  }
  return `${fns.join('\n')}\nexport const size_${i} = item0_${i}(1) + item1_${i}(2);\n`;
}

const expect = {};
if (scenario === 'emitter') {
  const [T, L, K] = n;
  await load(src('bus.js'));
  snap();
  for (let t = 0; t < T; t++) {
    await load(testFile(`orders-${t}.test.js`), null, `import { bus } from '../src/bus.js';
for (let i = 0; i < ${L}; i++) {
  const batch = [];
  for (let k = 0; k < ${K}; k++) batch.push({ id: k, payload: 'order ${t}-' + i + '-' + k });
  bus.on('order', (o) => batch.length + o);
}
`);
  }
  snap();
  Object.assign(expect, { objects: T * L * K, listeners: T * L });
} else if (scenario === 'memo') {
  const [N] = n;
  const { resolver } = await load(src('resolver.js'));
  for (let i = 0; i < 5; i++) resolver.resolve('/warm/' + i);
  snap();
  await load(testFile('routes.test.js'), null, `import { resolver } from '../src/resolver.js';
for (let i = 0; i < ${N}; i++) resolver.resolve('/api/items/' + i + '/details/${'x'.repeat(60)}');
`);
  snap();
  Object.assign(expect, { entries: N });
} else if (scenario === 'mixed' || scenario === 'modules') {
  const [M, C] = scenario === 'mixed' ? n : [0, n[0]];
  const { place } = await load(src('orders.js'));
  for (let i = 0; i < 10; i++) place(-i);
  snap();
  const test = testFile('checkout.test.js');
  if (M) {
    await load(test, null, `import { place } from '../src/orders.js';
for (let i = 0; i < ${M}; i++) place(i);
`);
  }
  for (let i = 0; i < C; i++) {
    const ex = await load(path.join(fixture, 'src', 'generated', `catalog-${i}.js`), test, catalog(i));
    if (ex[`size_${i}`] < 0) throw new Error('unreachable');
  }
  snap();
  Object.assign(expect, { orders: M, modules: C });
} else if (scenario === 'buffers') {
  const [N, S] = n;
  await load(src('blobs.js'));
  snap();
  await load(testFile('uploads.test.js'), null, `import { upload } from '../src/blobs.js';
for (let i = 0; i < ${N}; i++) upload(${S}, i & 0xff);
`);
  snap();
  Object.assign(expect, { buffers: N, bytes: N * S });
} else if (scenario === 'newmodule') {
  const [N, S] = n;
  snap();
  // a test file first loaded between the snapshots: its module-level array (also published as a global)
  // keeps Buffers — new data of a new module instance, held by a variable, not module code
  await load(testFile('keep.test.js'), null, `const keep = [];
globalThis.__keptUploads = keep;
for (let i = 0; i < ${N}; i++) keep.push(Buffer.alloc(${S}, i & 0xff));
`);
  snap();
  Object.assign(expect, { buffers: N, bytes: N * S });
} else if (scenario === 'objectmap') {
  const [N] = n;
  const { register } = await load(src('registry.js'));
  register(-1);
  snap();
  await load(testFile('handlers.test.js'), null, `import { register } from '../src/registry.js';
for (let i = 0; i < ${N}; i++) register(i);
`);
  snap();
  Object.assign(expect, { handlers: N });
} else if (scenario === 'late') {
  const [T, M] = n;
  snap();
  for (let t = 0; t < T; t++) {
    await load(testFile(`postings-${t}.test.js`), null, `import { post } from '../src/ledger.js';
for (let i = 0; i < ${M}; i++) post('acct-${t}-' + i, i);
`);
    if (t === 0) snap();
  }
  snap();
  Object.assign(expect, { first: M, later: (T - 1) * M });
} else if (scenario === 'reeval') {
  const [C] = n;
  const other = nums[1] === 'other';
  const first = testFile('catalogs-0.test.js');
  const url = (i) => path.join(fixture, 'src', 'generated', `catalog-${i}.js`);
  for (let i = 0; i < C; i++) await load(url(i), first, catalog(i));
  snap();
  const map = globalThis.__vitest_worker__.evaluatedModules.idToModuleMap;
  for (const [key, node] of [...map]) if (node.importers.has(first)) map.delete(key);
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc');
  v8.setFlagsFromString('--no-expose-gc');
  gc();
  gc();
  const second = testFile('catalogs-1.test.js');
  for (let i = 0; i < C; i++) {
    const j = other ? C + i : i;
    await load(url(j), second, catalog(j));
  }
  snap();
  Object.assign(expect, { modules: C });
} else {
  console.error(`unknown scenario ${scenario}`);
  process.exit(2);
}
console.log(JSON.stringify({ pid: process.pid, files, expect }));
