// heaplens's per-file hook for Jest: put first in every project's `setupFilesAfterEnv` by the lane's generated
// config. Jest runs it inside each test file's VM context, with that file's module registry, before the file
// itself. It hands the file's boundaries to `jest-trace.cjs`, loaded once per worker with Node's own require
// (not Jest's: that one would give every file a fresh copy), and passes it strings only.
//
//   begin      now (the file's environment and framework are set up, its imports not yet run)
//   collected  in a beforeAll registered here: the first root hook, so after the file's collection and before
//              any hook or test of the file (the worker's first file only, for its earliest snapshot)
//   end        in an afterAll kept last among the root hooks: after the file's own afterAll hooks (jest-circus
//              runs a block's afterAll hooks in the order they were added, so later ones are put before it)
/* global beforeAll, afterAll, expect */
'use strict'

const HOOK_TIMEOUT = 3_600_000
const KEY = Symbol.for('heaplens.jest-trace')

function core() {
  // `require('vm')` is Node's own module (Jest passes core modules through); the main context's `process` is the
  // real one, whose getBuiltinModule gives the real `module` (Jest's own `require('module')` is a stand-in).
  const vm = require('vm')
  const realProcess = vm.runInThisContext('process')
  if (realProcess[KEY]) return realProcess[KEY]
  const target = require('path').join(__dirname, 'jest-trace.cjs')
  let nodeRequire = null
  if (typeof realProcess.getBuiltinModule === 'function') {
    nodeRequire = realProcess.getBuiltinModule('module').createRequire(target)
  } else if (realProcess.mainModule) {
    nodeRequire = (p) => realProcess.mainModule.require(p)
  }
  if (!nodeRequire) return null
  const api = nodeRequire(target)
  Object.defineProperty(realProcess, KEY, { value: api, enumerable: false, configurable: true })
  return api
}

function testPath() {
  try {
    const p = expect.getState().testPath
    if (p) return String(p)
  } catch {}
  return null
}

function rootHooks() {
  // jest-circus keeps its state on the file's global under a symbol of its own
  for (const s of Object.getOwnPropertySymbols(globalThis)) {
    if (String(s) === 'Symbol(JEST_STATE_SYMBOL)') {
      const state = globalThis[s]
      const hooks = state && state.rootDescribeBlock && state.rootDescribeBlock.hooks
      if (Array.isArray(hooks)) return hooks
    }
  }
  return null
}

const trace = core()
const file = testPath()
if (trace && file) {
  const project = (typeof process.env.HEAPLENS_JEST_PROJECT === 'string' && process.env.HEAPLENS_JEST_PROJECT) || ''
  if (trace.begin(file, project)) {
    beforeAll(() => trace.collected(file), HOOK_TIMEOUT)
  }
  const onEnd = () => trace.end(file)
  afterAll(onEnd, HOOK_TIMEOUT)
  const hooks = rootHooks()
  const ours = hooks && hooks.find((h) => h && h.fn === onEnd)
  if (ours) {
    Object.defineProperty(hooks, 'push', {
      configurable: true,
      value(...items) {
        const i = this.indexOf(ours)
        if (i < 0) return Array.prototype.push.apply(this, items)
        this.splice(i, 0, ...items)
        return this.length
      },
    })
  }
}
