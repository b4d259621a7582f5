// heaplens's Vitest setup file, injected first by `heaplens run`: the memory trace and the heap snapshots at
// test-file boundaries (trace-vitest.cjs says what and why it is this small). Run for every test file.
const next = process[Symbol.for('heaplens.trace.vitest')]
if (typeof next === 'function') {
  next()
} else {
  const [vitest, { createRequire }] = await Promise.all([import('vitest'), import('node:module')])
  createRequire(import.meta.url)('./trace-vitest.cjs').setup(vitest)
}
