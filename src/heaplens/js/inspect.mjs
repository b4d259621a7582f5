// heaplens: the suite's test files and each project's resolved config, read from Vitest itself.
//
// Run by `heaplens plan` / `heaplens run` with Node, in the suite root:
//   [HEAPLENS_INSPECT_SHARD=i/n] node inspect.mjs <vitest/node entry (absolute)> <out.json> <config path or ""> [filters...]
// It starts Vitest the way `vitest list --filesOnly` does (createVitest in run mode, the same environment
// variables), asks it for the test specifications matching the filters (`getRelevantTestSpecifications`,
// the call `vitest list` makes) and writes, for every project, the options that decide how its files run:
// pool, isolate, worker count, environment, setup files, execArgv... as Vitest resolved them (defaults,
// `extends`, CLI-free). Nothing is run; no worker starts.
import fs from 'node:fs'
import path from 'node:path'
import { Writable } from 'node:stream'
import { pathToFileURL } from 'node:url'

const [entry, out, configArg, ...filters] = process.argv.slice(2)
const root = process.cwd()

// As `vitest list` (prepareVitest) does before the config is read: configs may branch on them.
process.env.TEST = 'true'
process.env.VITEST = 'true'
process.env.NODE_ENV ??= 'test'

const sink = () => new Writable({ write(_chunk, _enc, cb) { cb() } })

function plain(value, depth = 0) {
  // JSON-safe copy of a config value (functions, RegExps and cycles become strings / null).
  if (value == null || typeof value === 'boolean' || typeof value === 'number' || typeof value === 'string') return value
  if (depth > 6) return null
  if (typeof value === 'function') return `[function ${value.name || 'anonymous'}]`
  if (value instanceof RegExp) return String(value)
  if (Array.isArray(value)) return value.map((v) => plain(v, depth + 1))
  if (typeof value === 'object') {
    const o = {}
    for (const [k, v] of Object.entries(value)) o[k] = plain(v, depth + 1)
    return o
  }
  return String(value)
}

const POOL_KEYS = { threads: 'threads', forks: 'forks', vmThreads: 'vmThreads', vmForks: 'vmForks' }

function describe(project, major) {
  const c = project.config || {}
  const pool = typeof c.pool === 'string' ? c.pool : 'forks'
  const po = (c.poolOptions && POOL_KEYS[pool] && c.poolOptions[POOL_KEYS[pool]]) || {}
  // Vitest <= 3: poolOptions.<pool>.isolate / execArgv / singleFork|singleThread / maxForks|maxThreads
  // override the top-level values; Vitest >= 4 has them at the top level only.
  let isolate = c.isolate
  if (major < 4 && typeof po.isolate === 'boolean') isolate = po.isolate
  if (isolate == null) isolate = true
  let maxWorkers = c.maxWorkers ?? null
  if (major < 4) {
    const m = pool === 'forks' || pool === 'vmForks' ? po.maxForks : po.maxThreads
    if (m != null) maxWorkers = m
    if (po.singleFork || po.singleThread) maxWorkers = 1
  }
  if (c.fileParallelism === false) maxWorkers = 1
  const execArgv = major < 4 ? (po.execArgv || []) : (c.execArgv || [])
  return {
    name: project.name || '',
    root: c.root || null,
    pool,
    isolate: Boolean(isolate),
    maxWorkers: typeof maxWorkers === 'string' || typeof maxWorkers === 'number' ? maxWorkers : null,
    fileParallelism: c.fileParallelism !== false,
    environment: c.environment || 'node',
    setupFiles: (c.setupFiles || []).map(String),
    globalSetup: (c.globalSetup || []).map((g) => (typeof g === 'string' ? g : '[inline]')),
    execArgv: (execArgv || []).map(String),
    sequenceHooks: (c.sequence && c.sequence.hooks) || null,
    testTimeout: c.testTimeout ?? null,
    hookTimeout: c.hookTimeout ?? null,
    vmMemoryLimit: c.vmMemoryLimit ?? (po.memoryLimit ?? null),
    poolOptions: major < 4 ? plain(c.poolOptions || {}) : null,
    browser: Boolean(c.browser && c.browser.enabled),
    typecheck: Boolean(c.typecheck && c.typecheck.enabled),
  }
}

// The files of one shard (HEAPLENS_INSPECT_SHARD=i/n), chosen by Vitest itself as `vitest run --shard i/n` chooses them:
// Vitest 5 shards the relevant specifications in `_shardSpecifications` (after dropping skipped files when
// `experimental.preParse` is on); Vitest 3 and 4 shard them in the pool with the configured sequencer's
// `shard()` (Vitest 3 per `sequence.groupOrder` group), refusing more shards than files. A custom sequencer's
// own `shard()` is used either way.
async function shardOf(vitest, specs, major) {
  if (typeof vitest._shardSpecifications === 'function') {
    const pre = vitest.config.experimental && vitest.config.experimental.preParse
    if (pre && typeof vitest.preParseSpecifications === 'function') return vitest.preParseSpecifications(specs)
    return vitest._shardSpecifications(specs)
  }
  const { index, count } = vitest.config.shard
  const Sequencer = vitest.config.sequence.sequencer
  const sequencer = new Sequencer(vitest)
  const check = (list) => {
    if (!vitest.config.passWithNoTests && count > list.length) {
      throw new Error(`--shard <count> must be a smaller than count of test files. Resolved ${list.length} test files for --shard=${index}/${count}.`)
    }
  }
  if (major >= 4) {
    check(specs)
    return sequencer.shard(Array.from(specs))
  }
  const groups = new Map()
  for (const spec of specs) {
    const project = spec.project || spec[0]
    const order = (project && project.config && project.config.sequence && project.config.sequence.groupOrder) ?? 0
    if (!groups.has(order)) groups.set(order, [])
    groups.get(order).push(spec)
  }
  const out = []
  for (const order of Array.from(groups.keys()).sort()) {
    const list = groups.get(order)
    check(list)
    out.push(...(await sequencer.shard(list)))
  }
  return out
}

async function main() {
  const mod = await import(pathToFileURL(entry).href)
  const createVitest = mod.createVitest
  if (typeof createVitest !== 'function') throw new Error('vitest/node has no createVitest')
  const major = Number(String(mod.version || '').split('.')[0]) || Number(process.env.HEAPLENS_VITEST_MAJOR || 0)
  const options = { root, watch: false, run: true }
  if (configArg) options.config = configArg
  const shard = process.env.HEAPLENS_INSPECT_SHARD || ''
  if (shard) options.shard = shard
  const vitest = await createVitest('test', options, {}, { stdout: sink(), stderr: sink() })
  let specs
  let sharded = null
  let shardError = null
  try {
    specs = await vitest.getRelevantTestSpecifications(filters)
    if (shard) {
      try {
        sharded = await shardOf(vitest, specs, major)
      } catch (e) {
        shardError = String((e && e.message) || e)
      }
    }
  } catch (e) {
    await vitest.close().catch(() => {})
    throw e
  }
  const projects = []
  const index = new Map()
  const all = Array.isArray(vitest.projects) && vitest.projects.length ? vitest.projects : (specs.map((s) => s.project))
  for (const p of all) {
    if (!p || index.has(p)) continue
    index.set(p, projects.length)
    projects.push(describe(p, major))
  }
  const files = []
  for (const s of specs) {
    const p = s.project
    if (!index.has(p)) {
      index.set(p, projects.length)
      projects.push(describe(p, major))
    }
    const id = s.moduleId ?? (Array.isArray(s) ? s[1] : null)
    if (id) files.push({ file: id, project: index.get(p) })
  }
  const vite = vitest.vite || vitest._vite
  const configFile = (vite && vite.config && vite.config.configFile) || (vitest.config && vitest.config.config) || null
  const doc = { vitest: mod.version || null, root, config: configFile ? String(configFile) : null, projects, files }
  if (shard) {
    doc.shard = shard
    doc.shardError = shardError
    doc.shardFiles = (sharded || []).map((s) => ({ file: s.moduleId ?? (Array.isArray(s) ? s[1] : null), project: index.get(s.project) }))
  }
  await vitest.close().catch(() => {})
  fs.mkdirSync(path.dirname(out), { recursive: true })
  fs.writeFileSync(out, JSON.stringify(doc))
}

main().then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(String((e && e.stack) || e).split('\n').slice(0, 8).join('\n') + '\n')
    process.exit(1)
  },
)
