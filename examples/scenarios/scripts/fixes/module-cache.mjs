// map-clear: afterEach(clearSessions) — sessionCache.clear()
export default async ({ load }) => (await load('src/cache.js')).clearSessions()
