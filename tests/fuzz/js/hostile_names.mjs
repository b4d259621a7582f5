// Two snapshots of one process with 3,000 instances each of two classes whose names the code under
// test chose: terminal escapes (OSC 52 clipboard write, screen clear, colour), a bidi override and a
// newline. V8 names an instance of an anonymous class by its prototype's Symbol.toStringTag.
//   node hostile_names.mjs OUT_DIR   → prints {"pid": N, "files": [before, after]}
import v8 from 'node:v8';
import path from 'node:path';

const evil = '\x1b]52;c;ZXZpbA==\x07\x1b[2J\x1b[31mEvilClass';
function make(tag) {
  // no inferred name: V8 falls back to the tag; each instance holds ~1 KB, so 3,000 of them are a
  // growth heaplens reports (above its floor of 0.1 % of the heap limit)
  const K = new Function('return class { constructor(i) { this.pad = JSON.stringify({ i, pad: "x".repeat(1000) }); } }')();
  Object.defineProperty(K.prototype, Symbol.toStringTag, { value: tag });
  return K;
}
const Evil = make(evil);
const Evil2 = make(evil + '2\u202eRTL\n2nd line');
export const keep = [];
globalThis.keep = keep;
process.chdir(process.argv[2]);
const files = [path.resolve(v8.writeHeapSnapshot('hostile-0.heapsnapshot'))];
for (let i = 0; i < 3000; i++) keep.push(new Evil(i), new Evil2(i));
files.push(path.resolve(v8.writeHeapSnapshot('hostile-1.heapsnapshot')));
console.log(JSON.stringify({ pid: process.pid, files }));
