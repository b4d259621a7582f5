// array-clear: afterEach(reset) — blobs.length = 0
export default async ({ load }) => (await load('src/blob-store.js')).reset()
