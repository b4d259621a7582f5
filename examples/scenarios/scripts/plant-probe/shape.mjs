// Prints the pool / isolate / workers shape a scenario's Vitest config asks for (Vitest 3 poolOptions or
// Vitest 4/5 top-level options), for the corpus test that checks labels.json against the configs: one JSON
// line per config given, in order ({"error": …} for a config that cannot be loaded), one Node for them all.
//   node scripts/plant-probe/shape.mjs <scenario>/vitest.config.js [<scenario>/vitest.config.js …]
import { pathToFileURL } from 'node:url'

async function shape(path) {
  const loaded = (await import(pathToFileURL(path).href)).default
  const config = typeof loaded === 'function' ? await loaded({ command: 'serve', mode: 'test' }) : loaded
  const test = config.test ?? {}
  const pool = test.pool ?? 'forks'
  const options = test.poolOptions?.[pool] ?? {}
  const workers = test.maxWorkers ?? (options.singleFork || options.singleThread ? 1 : null)
  return { pool, isolate: test.isolate ?? options.isolate ?? true, workers }
}

for (const path of process.argv.slice(2)) {
  let out
  try {
    out = await shape(path)
  } catch (err) {
    out = { error: `${path}: ${err?.stack ?? err}` }
  }
  console.log(JSON.stringify(out))
}
