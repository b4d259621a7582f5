// Plants known objects between heap snapshots, for tests.
//   node plant.mjs OUT_DIR COUNT [SNAPSHOTS] [--names default|plain]
// Writes SNAPSHOTS (default 2) snapshots into OUT_DIR. Before snapshot k (k >= 1), COUNT more
// PlantedLeak instances are kept alive in a module-level array, each holding a PlantedPayload and a
// closure over a per-instance context. With --names default the files get Node's own names
// (Heap.YYYYMMDD.HHMMSS.PID.TID.SEQ.heapsnapshot); with --names plain they are snap-<k>.heapsnapshot.
import v8 from 'node:v8';
import path from 'node:path';

const [outDir, countArg, snapsArg] = process.argv.slice(2);
const namesMode = process.argv.includes('--names') ? process.argv[process.argv.indexOf('--names') + 1] : 'plain';
const count = Number(countArg);
const snapshots = Number(snapsArg || 2);

class PlantedPayload {
  constructor(i) { this.index = i; this.weight = i * 2; }
}
class PlantedLeak {
  constructor(i) {
    this.id = i;
    this.payload = new PlantedPayload(i);
    this.touch = () => this.id + i;
  }
}

export const plantedBucket = [];
globalThis.__plantedBucket = plantedBucket;
process.chdir(outDir);
const written = [];
for (let k = 0; k < snapshots; k++) {
  if (k > 0) for (let i = 0; i < count; i++) plantedBucket.push(new PlantedLeak(plantedBucket.length));
  const file = namesMode === 'default' ? v8.writeHeapSnapshot() : v8.writeHeapSnapshot(`snap-${k}.heapsnapshot`);
  written.push(path.resolve(file));
}
console.log(JSON.stringify({ pid: process.pid, files: written }));
