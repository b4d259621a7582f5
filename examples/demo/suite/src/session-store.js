// A session store whose cache is never cleared: every test's sessions stay reachable from the
// module-level Map for as long as the worker lives.
export const sessionCache = new Map();

export class SessionRecord {
  constructor(id, user) {
    this.id = id;
    this.user = user;
    this.claims = JSON.stringify({ sub: user, scopes: ['read', 'write'], pad: 'x'.repeat(1500) });
    this.createdAt = Date.now();
  }
}

export function openSession(id, user) {
  const s = new SessionRecord(id, user);
  sessionCache.set(id, s);
  return s;
}
