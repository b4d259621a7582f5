// A miniature of Vitest's module runner, for the verdict tests: modules are transformed the way Vite's
// SSR transform does it (imports → `await __vite_ssr_import__(…)`, exports → getters on
// `__vite_ssr_exports__`), wrapped as `'use strict';async (…)=>{{ … }}` and evaluated with
// vm.runInThisContext — so their top-level declarations live in a block context, as in a real Vitest
// worker — and each evaluation is kept as an `EvaluatedModuleNode` in
// `globalThis.__vitest_worker__.evaluatedModules.idToModuleMap`, which is never cleared.
import vm from 'node:vm';
import fs from 'node:fs';
import path from 'node:path';

export class EvaluatedModuleNode {
  constructor(id, url) {
    this.id = id;
    this.url = url;
    this.file = id;
    this.importers = new Set();
    this.imports = new Set();
    this.evaluated = false;
    this.exports = undefined;
    this.promise = undefined;
  }
}
export class VitestEvaluatedModules {
  constructor() { this.idToModuleMap = new Map(); this.fileToModulesMap = new Map(); }
}
globalThis.__vitest_worker__ = { evaluatedModules: new VitestEvaluatedModules() };
const registry = globalThis.__vitest_worker__.evaluatedModules;

function transform(code) {
  const exportsOut = [];
  let n = 0;
  let out = code.replace(/^import\s+\{([^}]*)\}\s+from\s+['"]([^'"]+)['"];?/gm, (_, names, from) => {
    const v = `__vi_import_${n++}__`;
    return `const ${v} = await __vite_ssr_import__(${JSON.stringify(from)}); const {${names}} = ${v};`;
  });
  out = out.replace(/^export\s+(const|let|var|function|class)\s+([A-Za-z_$][\w$]*)/gm, (_, kw, name) => {
    exportsOut.push(name);
    return `${kw} ${name}`;
  });
  const getters = exportsOut.map((x) =>
    `Object.defineProperty(__vite_ssr_exports__, ${JSON.stringify(x)}, { enumerable: true, configurable: true, get(){ return ${x} } });`);
  return `'use strict';async (__vite_ssr_import__,__vite_ssr_dynamic_import__,__vite_ssr_exports__,__vite_ssr_exportAll__,__vite_ssr_import_meta__)=>{{${getters.join('')}\n${out}\n}}`;
}

export async function load(file, importer, source) {
  const id = path.resolve(file);
  const hit = registry.idToModuleMap.get(id);
  if (hit && source === undefined) {
    if (importer) hit.importers.add(importer);
    return hit.exports;
  }
  const node = new EvaluatedModuleNode(id, '/' + path.relative(process.cwd(), id));
  if (importer) node.importers.add(importer);
  registry.idToModuleMap.set(id + (source === undefined ? '' : `#${registry.idToModuleMap.size}`), node);
  const code = source ?? fs.readFileSync(id, 'utf8');
  const exports = Object.create(null);
  Object.defineProperty(exports, Symbol.toStringTag, { value: 'Module' });
  node.exports = exports;
  const fn = vm.runInThisContext(transform(code), { filename: id });
  const ssrImport = async (spec) => {
    if (spec.startsWith('node:')) return import(spec);
    node.imports.add(path.resolve(path.dirname(id), spec));
    return load(path.resolve(path.dirname(id), spec), id);
  };
  node.promise = fn(ssrImport, ssrImport, exports, () => {}, { url: 'file://' + id });
  await node.promise;
  node.evaluated = true;
  return exports;
}
