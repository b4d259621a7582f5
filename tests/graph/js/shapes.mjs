// Plain objects of known shapes for DevTools' interface names ({a, b, c}), then one heap snapshot.
// Usage: node shapes.mjs OUT_DIR  -> prints {"file": path, "counts": {...}} as JSON
// Objects are built property by property from an empty literal (no literal boilerplates, which
// would be plain objects of the same shape too), with heap-object values (small integers get no
// edges in a snapshot).
import path from 'node:path'
import v8 from 'node:v8'

const out = process.argv[2]
const V = [0]
const make = (keys) => {
  const o = {}
  for (const k of keys) o[k] = V
  return o
}
const keep = []
const counts = { abc: 3000, bac: 800, abcd: 2000, comma: 2500, long: 2200 }
const long = Array.from({ length: 12 }, (_, i) => `property_${String(i).padStart(2, '0')}abc`)
for (let i = 0; i < counts.abc; i++) keep.push(make(['alpha', 'beta', 'gamma']))
// the same properties in another order: named after the more popular ordering
for (let i = 0; i < counts.bac; i++) keep.push(make(['beta', 'alpha', 'gamma']))
// a superset with a definition of its own
for (let i = 0; i < counts.abcd; i++) keep.push(make(['alpha', 'beta', 'gamma', 'delta']))
// a name that needs quotes
for (let i = 0; i < counts.comma; i++) keep.push(make(['zeta', 'a,b']))
// 12 properties of 14 characters: the name stops before 120 UTF-16 units (7 properties)
for (let i = 0; i < counts.long; i++) keep.push(make(long))
// one object with one more property: no definition of its own, so it matches {alpha, beta, gamma}
keep.push(make(['alpha', 'beta', 'gamma', 'extra_x']))
// one object that matches nothing: stays "Object"
keep.push(make(['lonely_property_q']))
globalThis.keep = keep
const file = v8.writeHeapSnapshot(path.join(out, 'shapes.heapsnapshot'))
process.stdout.write(JSON.stringify({ file, counts }) + '\n')
