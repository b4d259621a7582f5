import { describe, expect, test } from 'vitest'
import { loadCatalog } from '../src/i18n.js'

const LOCALES = ['en', 'de', 'fr', 'es', 'it', 'nl', 'pl', 'pt']

// Each test renders many component namespaces in every locale; the global catalog cache is never
// dropped (the fix: afterAll(() => { delete globalThis.__i18nCatalogs })).
describe('errors translations', () => {
  for (let t = 0; t < 3; t++) {
    test(`renders namespaces ${t}`, () => {
      for (let n = 0; n < 80; n++) {
        for (const locale of LOCALES) {
          const catalog = loadCatalog(locale, `errors-${t}-component${n}`)
          expect(catalog.t(`errors-${t}-component${n}.key3`)).toContain(locale)
        }
      }
    })
  }
})
