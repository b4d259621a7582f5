// heaplens: read a Jest suite's resolved config the way the `jest` CLI does (jest-config's readConfigs), without
// running anything. Run by Node in the suite root:
//   node jest-inspect.cjs <jest-config entry> <out.json> <config file or ''> [json argv]
// Writes {global: {...}, projects: [{...}], configPath}: for each project the options that decide how its files
// run. The files themselves come from `jest --listTests` (runner/jest.py), so that Jest's own search, filters and
// --shard decide them.
'use strict'

const fs = require('fs')
const path = require('path')

async function main() {
  const [entry, outPath, configPath, argvJson] = process.argv.slice(2)
  const jestConfig = require(entry)
  const argv = { $0: 'jest', _: [], ...(argvJson ? JSON.parse(argvJson) : {}) }
  if (configPath) argv.config = configPath
  const { globalConfig, configs, configPath: used } = await jestConfig.readConfigs(argv, [process.cwd()])
  const env = (p) => {
    const base = path.basename(String(p || ''))
    const m = /^jest-environment-(.+?)(\/.*)?$/.exec(base) || /jest-environment-([^/\\]+)/.exec(String(p || ''))
    return m ? m[1] : base.replace(/\.[cm]?[jt]s$/, '') || 'node'
  }
  const doc = {
    configPath: used || null,
    global: {
      maxWorkers: globalConfig.maxWorkers,
      workerThreads: Boolean(globalConfig.workerThreads),
      workerIdleMemoryLimit: globalConfig.workerIdleMemoryLimit ?? null,
      runInBand: Boolean(globalConfig.runInBand),
      projects: (globalConfig.projects || []).map(String),
    },
    projects: configs.map((c) => ({
      name: (c.displayName && (c.displayName.name || c.displayName)) || '',
      rootDir: c.rootDir,
      testEnvironment: c.testEnvironment,
      environment: env(c.testEnvironment),
      setupFiles: c.setupFiles || [],
      setupFilesAfterEnv: c.setupFilesAfterEnv || [],
      injectGlobals: c.injectGlobals !== false,
      testRunner: c.testRunner,
    })),
  }
  fs.writeFileSync(outPath, JSON.stringify(doc))
}

main().catch((e) => {
  process.stderr.write(String((e && e.stack) || e) + '\n')
  process.exit(1)
})
