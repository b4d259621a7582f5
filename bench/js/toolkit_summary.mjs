// Peer for bench/bench_reader.py: DevTools' own snapshot code (npm heap-snapshot-toolkit) loads a
// snapshot (its full initialisation) and sums count and self size per (node type, node name),
// the same grouping as `heaplens diff`. Prints one JSON line.
//   node --max-old-space-size=N bench/js/toolkit_summary.mjs FILE
import { createReadStream } from 'node:fs';
import { parse } from 'heap-snapshot-toolkit';

const file = process.argv[2];
const t0 = performance.now();
const snap = await parse(createReadStream(file));
const t1 = performance.now();
const { nodes, strings, nodeFieldCount, nodeTypeOffset, nodeNameOffset, nodeSelfSizeOffset, nodeTypes } = snap;
const groups = new Map();
const n = snap.nodeCount * nodeFieldCount;
for (let i = 0; i < n; i += nodeFieldCount) {
  const key = nodeTypes[nodes.getValue(i + nodeTypeOffset)] + '\u0000' + strings[nodes.getValue(i + nodeNameOffset)];
  const g = groups.get(key);
  const size = nodes.getValue(i + nodeSelfSizeOffset);
  if (g) { g[0]++; g[1] += size; } else groups.set(key, [1, size]);
}
const t2 = performance.now();
console.log(JSON.stringify({ parse_s: (t1 - t0) / 1000, group_s: (t2 - t1) / 1000, seconds: (t2 - t0) / 1000, nodes: snap.nodeCount, rows: groups.size }));
process.exit(0);
