// External memory: Buffers kept in a module-level array (their bytes live outside the JS heap).
//   node buffers.mjs OUT_DIR COUNT
import v8 from 'node:v8';
import path from 'node:path';

const [outDir, countArg] = process.argv.slice(2);
const retainedBuffers = [];
process.chdir(outDir);
const files = [path.resolve(v8.writeHeapSnapshot())];
for (let i = 0; i < Number(countArg); i++) retainedBuffers.push(Buffer.alloc(64 * 1024, i & 0xff));
files.push(path.resolve(v8.writeHeapSnapshot()));
console.log(JSON.stringify({ pid: process.pid, files }));
