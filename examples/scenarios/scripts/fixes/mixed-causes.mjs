// array-clear: afterEach(clearLedger) — orders.length = 0 (the module graph has no in-process fix: isolate)
export default async ({ load }) => (await load('src/ledger.js')).clearLedger()
