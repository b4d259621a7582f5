// The plant check's Vitest config: the scenario's own config (PLANT_PROBE_CONFIG) with one more setup
// file, setup.mjs (the probe). Nothing else changes: pool, isolate, workers, includes are the suite's.
//   PLANT_PROBE_CONFIG=<dir>/vitest.config.js vitest run --config scripts/plant-probe/config.mjs  (cwd: <dir>)
import { fileURLToPath, pathToFileURL } from 'node:url'

const config = process.env.PLANT_PROBE_CONFIG
if (!config) throw new Error('PLANT_PROBE_CONFIG: the scenario config to wrap')
const loaded = (await import(pathToFileURL(config).href)).default
const base = typeof loaded === 'function' ? await loaded({ command: 'serve', mode: 'test' }) : loaded
const test = base.test ?? {}
const probe = fileURLToPath(new URL('./setup.mjs', import.meta.url))

export default { ...base, test: { ...test, setupFiles: [...[].concat(test.setupFiles ?? []), probe] } }
