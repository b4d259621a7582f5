// An ETL step: parses a large JSON export, indexes it, aggregates it and renders a CSV, all in
// temporaries. Nothing outlives the call except the small summary it returns.
export class LineRecord {
  constructor(raw) {
    this.id = raw.id
    this.account = raw.account
    this.amount = raw.amount
    this.tags = raw.tags
  }
}

export function makeExport(seed, rows) {
  const items = []
  for (let i = 0; i < rows; i++) {
    items.push({ id: `${seed}-${i}`, account: `acct-${i % 500}`, amount: (i * 7919) % 10_000, tags: ['a' + (i % 7), 'b' + (i % 5)] })
  }
  return JSON.stringify({ seed, items })
}

export function runPipeline(json) {
  const doc = JSON.parse(json)
  const records = doc.items.map((raw) => new LineRecord(raw))
  const byAccount = new Map()
  for (const r of records) {
    let list = byAccount.get(r.account)
    if (!list) byAccount.set(r.account, (list = []))
    list.push(r)
  }
  const scratch = Buffer.alloc(8 * 1024 * 1024, 1) // a large temporary work area
  let csv = ''
  for (const [account, list] of byAccount) csv += `${account},${list.length},${list.reduce((s, r) => s + r.amount, 0)}\n`
  return { accounts: byAccount.size, bytes: csv.length + scratch[0] - 1, records: records.length }
}
