// DevTools' Comparison view (calculateSnapshotDiff) via heap-snapshot-toolkit, as JSON:
// per class key: name, addedCount, removedCount, addedSize, removedSize.
// Usage: node devtools_diff.mjs BEFORE AFTER   (HST_DIR = node_modules holding heap-snapshot-toolkit)
import { createReadStream } from 'node:fs'
import path from 'node:path'
import { pathToFileURL } from 'node:url'

const [before, after] = process.argv.slice(2)
const dir = process.env.HST_DIR || '/tmp/hst/node_modules'
const mod = await import(pathToFileURL(path.join(dir, 'heap-snapshot-toolkit', 'index.js')).href)
const a = await mod.parse(createReadStream(before))
const b = await mod.parse(createReadStream(after))
const d = await mod.diff(a, b)
const rows = Object.entries(d).map(([key, v]) => ({ key, name: v.name, addedCount: v.addedCount, removedCount: v.removedCount, addedSize: v.addedSize, removedSize: v.removedSize }))
process.stdout.write(JSON.stringify({ rows }) + '\n')
