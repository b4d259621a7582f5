// Module-graph retention, the way a shared Vitest worker (isolate=false) accumulates it: every test
// file's modules are transformed (vite-node style: `__vite_ssr_import__`, inline source maps) and
// evaluated with vm.runInThisContext, and the module cache keeps all of them.
//   node module_graph.mjs OUT_DIR MODULES [SNAPSHOTS] [alias]
// With `alias`, a dependency (a script under node_modules) also reaches the cache through a module-level
// variable of its own — as lodash's `root` (its alias of the global object) reaches Vitest 3's ModuleCacheMap.
import v8 from 'node:v8';
import vm from 'node:vm';
import path from 'node:path';

const [outDir, countArg, snapsArg, mode] = process.argv.slice(2);
const count = Number(countArg);
const snapshots = Number(snapsArg || 2);
class ModuleCacheMap extends Map {} // vite-node's module cache: never cleared in a shared worker
const moduleCache = new ModuleCacheMap();
if (mode === 'alias') {
  const dep = vm.runInThisContext(
    '(function (cache) { var root = { state: { moduleCache: cache } }; return function keep() { return root } })',
    { filename: '/repo/node_modules/dep/index.js' });
  globalThis.__depKeep = dep(moduleCache);
}

function transformed(i) {
  const fns = [];
  for (let k = 0; k < 12; k++) {
    fns.push(`export function helper${k}_${i}(x) { return __vi_import_0__.format(x * ${k} + ${i}, "m${i}f${k}"); }`);
  }
  const body = `const __vi_import_0__ = await __vite_ssr_import__("/src/util/format.ts", {importedNames:["format"]});
class Service${i} { constructor(){ this.name = "service-${i}"; this.table = [${Array.from({ length: 40 }, (_, k) => k * i).join(',')}]; } run(v){ return helper0_${i}(v) + this.table.length; } }
${fns.join('\n')}
__vite_ssr_exports__.default = Service${i};
Object.defineProperty(__vite_ssr_exports__, "helper0_${i}", { enumerable: true, get(){ return helper0_${i}; } });`;
  const map = Buffer.from(JSON.stringify({ version: 3, file: `mod${i}.ts`, mappings: 'AAAA;'.repeat(200), sources: [`mod${i}.ts`] })).toString('base64');
  return `'use strict';async (__vite_ssr_import__,__vite_ssr_dynamic_import__,__vite_ssr_exports__,__vite_ssr_exportAll__,__vite_ssr_import_meta__)=>{${body.replace(/export /g, '')}
}\n//# sourceMappingURL=data:application/json;charset=utf-8;base64,${map}`;
}

const formatModule = { format: (x, tag) => `${tag}:${x}` };
const ssrImport = async () => formatModule;

process.chdir(outDir);
const files = [];
let loaded = 0;
for (let s = 0; s < snapshots; s++) {
  if (s > 0) {
    for (let i = 0; i < count; i++, loaded++) {
      const filename = `/repo/src/generated/mod${loaded}.ts`;
      const fn = vm.runInThisContext(transformed(loaded), { filename });
      const exports = {};
      await fn(ssrImport, ssrImport, exports, () => {}, { url: filename });
      new exports.default().run(loaded); // run the code so it is compiled and has feedback
      moduleCache.set(filename, { exports, code: transformed(loaded), evaluated: true });
    }
  }
  files.push(path.resolve(v8.writeHeapSnapshot()));
}
console.log(JSON.stringify({ pid: process.pid, files }));
