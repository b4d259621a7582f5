// array-clear: store.resetStore() — auditTrail.length = 0
export default async ({ load }) => (await load('src/store.js')).resetStore()
