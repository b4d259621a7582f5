// array-clear: afterEach(resetLedger) — entries.length = 0
export default async ({ load }) => (await load('src/ledger.js')).resetLedger()
