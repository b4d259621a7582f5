// Peer: @vscode/v8-heap-parser (Rust -> WASM). Parse + dominators + retained sizes + class groups.
// Usage: node vscode_summary.mjs SNAPSHOT [TOP]   (VHP_DIR = node_modules holding @vscode/v8-heap-parser)
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'

const [file, topArg] = process.argv.slice(2)
const dir = process.env.VHP_DIR || path.join(path.dirname(new URL(import.meta.url).pathname), '..', 'node_modules')
const require = createRequire(path.join(dir, 'x.js'))
const vhp = require('@vscode/v8-heap-parser')
const t0 = performance.now()
const graph = vhp.decode_bytes(readFileSync(file))
const groups = graph.get_class_groups(0, Number(topArg || 20), false)
const rows = groups.map((g) => ({ name: g.name(), self: Number(g.self_size), retained: Number(g.retained_size) }))
const t1 = performance.now()
process.stdout.write(JSON.stringify({ seconds: (t1 - t0) / 1000, rows }) + '\n')
