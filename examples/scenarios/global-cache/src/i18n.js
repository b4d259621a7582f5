// Translation catalogs, cached on globalThis so that every copy of this module (several bundles,
// re-imported modules, isolated module graphs in tests) shares one cache. Nothing ever evicts.
export class Catalog {
  constructor(locale, namespace, messages) {
    this.locale = locale
    this.namespace = namespace
    this.messages = messages
  }

  t(key) {
    return this.messages[key] ?? key
  }
}

function cache() {
  return (globalThis.__i18nCatalogs ??= new Map())
}

export function loadCatalog(locale, namespace) {
  const key = `${locale}:${namespace}`
  let catalog = cache().get(key)
  if (!catalog) {
    const messages = {}
    for (let i = 0; i < 12; i++) messages[`${namespace}.key${i}`] = `${locale} ${namespace} message ${i}`
    catalog = new Catalog(locale, namespace, messages)
    cache().set(key, catalog)
  }
  return catalog
}
