// A route resolver with a memo: every distinct URL it resolves is remembered with its match.
// The app exports one shared instance; in a shared worker (isolate=false) the memo spans every file.
export class RouteMatch {
  constructor(route, url, params) {
    this.route = route
    this.url = url
    this.params = params
    this.segments = url.split('/').filter(Boolean)
  }
}

const ROUTES = [
  { name: 'product', pattern: /^\/shop\/([^/]+)\/products\/(\d+)$/, keys: ['shop', 'id'] },
  { name: 'order', pattern: /^\/orders\/(\d+)(?:\/lines\/(\d+))?$/, keys: ['id', 'line'] },
  { name: 'user', pattern: /^\/users\/([a-z0-9-]+)$/, keys: ['handle'] },
]

export class RouteResolver {
  constructor(routes) {
    this.routes = routes
    this.memo = new Map()
  }

  resolve(url) {
    let match = this.memo.get(url)
    if (match === undefined) {
      match = null
      for (const route of this.routes) {
        const m = route.pattern.exec(url)
        if (m) {
          const params = Object.fromEntries(route.keys.map((k, i) => [k, m[i + 1] ?? null]))
          match = new RouteMatch(route.name, url, params)
          break
        }
      }
      this.memo.set(url, match)
    }
    return match
  }

  clear() {
    this.memo.clear()
  }
}

export const resolver = new RouteResolver(ROUTES)
