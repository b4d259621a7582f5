// A module evaluated the way vite-node evaluates a transformed one — its code wrapped, with lines added on top,
// and run by vm under the file's own name — whose retry timers' anonymous callbacks (thousands of closures of
// the module's one script) outnumber its named functions. V8 keeps only the first 1,024 characters of the
// script's source in a snapshot, so a callback further down is placed by the shift of the named functions.
//   node timer_lines.mjs OUT_DIR SOURCE_FILE TIMERS
import fs from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';

const [outDir, source, timersArg] = process.argv.slice(2);
process.chdir(outDir);
const code = fs.readFileSync(source, 'utf8');
const wrapped = "'use strict';\n// the lines a transform adds on top\n(function (exports) {\n" + code + '\n})';
const exports = {};
vm.runInThisContext(wrapped, { filename: path.resolve(source) })(exports);
// the module's exports stay reachable, as a module registry keeps them: a local of this module's top level would
// not (an optimised loop below may count it dead, and `createOutbox` then went in about one run of four)
globalThis.outboxModule = exports;
const box = exports.createOutbox();
const timers = Number(timersArg);
const files = [];
for (let round = 0; round < 2; round++) {
  for (let i = 0; i < timers; i++) box.send({ to: `user${round}-${i}`, body: 'x'.repeat(64) });
  globalThis.gc?.();
  files.push(path.resolve(v8.writeHeapSnapshot()));
}
console.log(JSON.stringify({ pid: process.pid, files }));
process.exit(0); // the retry timers are a minute away
