import { expect, test } from 'vitest'
import { rules, runAll } from './generated/catalog-25.js'

// Imports one large generated module (module-graph/generated/, from scripts/generate-modules.mjs)
// and runs all its functions. In a shared worker (isolate=false) every file's module stays in the
// module runner's cache: the heap grows by transformed sources, bytecode and constants, file after file.
test('catalog 25 rules', () => {
  const results = runAll('catalog-25')
  expect(results).toHaveLength(rules.length)
})
