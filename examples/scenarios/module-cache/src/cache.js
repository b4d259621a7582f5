import { randomBytes } from 'node:crypto'

// A session store with a module-level cache. Nothing ever evicts entries, and the tests never call
// clearSessions(): in a shared worker (isolate=false) this module is loaded once, so every test
// file's sessions stay in `sessionCache` until the worker exits.
export class Session {
  constructor(id, user, roles) {
    this.id = id
    this.user = user
    this.roles = roles
    this.createdAt = Date.now()
    this.token = randomBytes(96).toString('base64')
    this.hits = 0
  }
}

const sessionCache = new Map()

export function loadSession(id, user = `user-${id}`) {
  let session = sessionCache.get(id)
  if (!session) {
    session = new Session(id, user, ['reader', id.length % 2 ? 'writer' : 'guest'])
    sessionCache.set(id, session)
  }
  session.hits++
  return session
}

export function sessionCount() {
  return sessionCache.size
}

// The cleanup the test files forget to call in afterEach/afterAll.
export function clearSessions() {
  sessionCache.clear()
}
