// Writes a V8 heap snapshot of a heap holding COUNT small records, each with
// its own strings, a closure over a per-record context, an array and a nested
// object: the shape of a test worker that keeps data alive.
//   node bench/gen_snapshot.mjs COUNT OUT.heapsnapshot
import v8 from 'node:v8';
import fs from 'node:fs';

const [count, out] = [Number(process.argv[2]), process.argv[3]];
if (!Number.isInteger(count) || count < 0 || !out) {
  console.error('usage: node bench/gen_snapshot.mjs COUNT OUT.heapsnapshot');
  process.exit(2);
}

class BenchRecord {
  constructor(i) {
    this.id = i;
    this.label = `record-${i}-${(i * 2654435761 % 1e9).toString(36)}`;
    this.tags = [`t${i % 97}`, `group-${i % 1013}`, i * 1.5];
    this.meta = { created: i * 3 + 0.25, owner: { name: `owner-${i}` } };
    this.describe = () => `${this.label}:${i}`;
  }
}

const keep = [];
for (let i = 0; i < count; i++) keep.push(new BenchRecord(i));
globalThis.__benchKeep = keep;
const tmp = `${out}.tmp-${process.pid}`;
v8.writeHeapSnapshot(tmp);
fs.renameSync(tmp, out);
console.log(`${out} ${fs.statSync(out).size} bytes`);
