// Prints the pool / isolate / workers shape a scenario's Vitest config asks for (Vitest 3 poolOptions or
// Vitest 4/5 top-level options), for the corpus test that checks labels.json against the configs.
//   node scripts/plant-probe/shape.mjs <scenario>/vitest.config.js
import { pathToFileURL } from 'node:url'

const loaded = (await import(pathToFileURL(process.argv[2]).href)).default
const config = typeof loaded === 'function' ? await loaded({ command: 'serve', mode: 'test' }) : loaded
const test = config.test ?? {}
const pool = test.pool ?? 'forks'
const options = test.poolOptions?.[pool] ?? {}
const workers = test.maxWorkers ?? (options.singleFork || options.singleThread ? 1 : null)
console.log(JSON.stringify({ pool, isolate: test.isolate ?? options.isolate ?? true, workers }))
