// A bounded least-recently-used cache (Map insertion order = recency). Past `capacity` entries the
// oldest is evicted, so however many keys a suite touches, at most `capacity` entries are kept.
export class CacheEntry {
  constructor(key, value) {
    this.key = key
    this.value = value
    this.hits = 0
  }
}

export class LRUCache {
  constructor(capacity) {
    this.capacity = capacity
    this.map = new Map()
  }

  get(key) {
    const entry = this.map.get(key)
    if (!entry) return undefined
    this.map.delete(key)
    this.map.set(key, entry)
    entry.hits++
    return entry.value
  }

  set(key, value) {
    this.map.delete(key)
    this.map.set(key, new CacheEntry(key, value))
    if (this.map.size > this.capacity) this.map.delete(this.map.keys().next().value)
  }

  get size() {
    return this.map.size
  }
}

// The shared cache of rendered fragments: module-level, bounded.
export const fragments = new LRUCache(2000)

export function render(template, data) {
  const key = `${template}:${JSON.stringify(data)}`
  let html = fragments.get(key)
  if (html === undefined) {
    const cells = Object.entries(data).map(([k, v]) => `<span data-k="${k}">${v}</span>`).join('')
    html = `<div class="${template}">${cells}<p>${String(data.label).repeat(4)}</p>${'<i></i>'.repeat(700)}</div>`
    fragments.set(key, html)
  }
  return html
}
