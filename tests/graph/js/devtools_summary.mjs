// Print DevTools' own Summary (per class key: name, count, shallow, retained, distance) as JSON.
// Usage: node devtools_summary.mjs SNAPSHOT [TOP] [--nodes id,id,...]
// Needs heap-snapshot-toolkit (DevTools' HeapSnapshot.ts); NODE_PATH or HST_DIR points at its node_modules.
import { createReadStream } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { pathToFileURL } from 'node:url'

const [file, topArg, ...rest] = process.argv.slice(2)
const top = Number(topArg || 50)
const dir = process.env.HST_DIR || '/tmp/hst/node_modules'
const mod = await import(pathToFileURL(path.join(dir, 'heap-snapshot-toolkit', 'index.js')).href)
const t0 = performance.now()
const snap = await mod.parse(createReadStream(file))
const t1 = performance.now()
const agg = snap.aggregatesWithFilter({})
const rows = Object.entries(agg).map(([key, a]) => ({ key, name: a.name, count: a.count, self: a.self, retained: a.maxRet, distance: a.distance }))
rows.sort((a, b) => b.retained - a.retained)
const out = { seconds: (t1 - t0) / 1000, nodeCount: snap.nodeCount, rows: rows.slice(0, top) }
const i = rest.indexOf('--nodes')
if (i >= 0) {
  const ids = rest[i + 1].split(',').map(Number)
  out.nodes = {}
  const node = snap.createNode(0)
  for (let idx = 0; idx < snap.nodes.length; idx += snap.nodeFieldCount) {
    node.nodeIndex = idx
    const id = node.id()
    if (ids.includes(id)) {
      out.nodes[id] = { retained: node.retainedSize(), self: node.selfSize(), distance: node.distance(), dominatorId: snap.createNode(node.dominatorIndex()).id() }
    }
  }
}
process.stdout.write(JSON.stringify(out) + '\n')
