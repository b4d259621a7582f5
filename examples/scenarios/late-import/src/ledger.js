// The ledger of a small accounting service: module-level state. The first test files never import this
// module; it is loaded by the third file (03-checkout) and from then on, in the shared worker
// (isolate=false), `entries` collects every file's postings — nothing resets it between files.
import { money } from './format.js'

export class LedgerEntry {
  constructor(account, cents, memo) {
    this.account = account
    this.cents = cents
    this.display = money(cents)
    this.memo = memo
    this.postedAt = Date.now()
  }
}

const entries = []

export function post(account, cents, memo) {
  const entry = new LedgerEntry(account, cents, memo)
  entries.push(entry)
  return entry
}

export function balance(account) {
  let total = 0
  for (const e of entries) if (e.account === account) total += e.cents
  return total
}

export function entryCount() {
  return entries.length
}

// What the tests should call in afterEach: empties the ledger in place.
export function resetLedger() {
  entries.length = 0
}
