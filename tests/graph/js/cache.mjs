// A module that keeps SessionRecord objects in a module-level Map (the "leak" the graph tests find).
export class SessionRecord {
  constructor(i) { this.id = i; this.blob = new Array(8).fill(i); }
}
const sessionCache = new Map();
export function remember(i) {
  const rec = new SessionRecord(i);
  sessionCache.set('s' + i, rec);
  return rec;
}
export function cacheSize() { return sessionCache.size; }
