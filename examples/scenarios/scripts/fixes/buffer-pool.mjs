// map-clear: framePool.releaseAll() — the leased set is emptied (the pool keeps maxFree = 8 idle frames)
export default async ({ load }) => (await load('src/frames.js')).framePool.releaseAll()
