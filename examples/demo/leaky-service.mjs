// A tiny "session service" with a classic leak: every session is cached in a module-level Map
// that nothing ever evicts. It handles requests in batches and writes a heap snapshot (with
// Node's own file name, Heap.YYYYMMDD.HHMMSS.PID.TID.SEQ.heapsnapshot) before the first batch
// and after each one — the shape of a long-lived test worker that keeps what it touched.
//   node leaky-service.mjs OUT_DIR [BATCHES] [REQUESTS_PER_BATCH]
import v8 from 'node:v8';

const [outDir, batchesArg, perBatchArg] = process.argv.slice(2);
const batches = Number(batchesArg || 3);
const perBatch = Number(perBatchArg || 20000);

class SessionRecord {
  constructor(id, user) {
    this.id = id;
    this.user = user;
    this.createdAt = Date.now();
    this.scopes = ['read', 'write'];
    this.onExpire = () => sessionCache.delete(id); // registered, never called
  }
}

const sessionCache = new Map(); // the leak: grows by one entry per request

function handleRequest(i) {
  const user = { name: `user-${i % 500}`, plan: i % 7 === 0 ? 'pro' : 'free' };
  const session = new SessionRecord(`sess-${i.toString(36)}-${(i * 7919) % 10007}`, user);
  sessionCache.set(session.id, session);
  return JSON.stringify({ ok: true, session: session.id }).length; // the response is garbage
}

process.chdir(outDir);
let served = 0;
const files = [v8.writeHeapSnapshot()];
for (let b = 0; b < batches; b++) {
  for (let i = 0; i < perBatch; i++) handleRequest(served++);
  files.push(v8.writeHeapSnapshot());
}
console.log(`pid ${process.pid}: served ${served} requests, cache holds ${sessionCache.size} sessions`);
for (const f of files) console.log(`  wrote ${f}`);
