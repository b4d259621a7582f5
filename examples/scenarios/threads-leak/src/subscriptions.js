// A live-query layer: subscribe() registers a query and its cached result set; unsubscribe()
// removes it. The registry is a module-level Set; the tests never unsubscribe.
export class Subscription {
  constructor(query, rows) {
    this.query = query
    this.rows = rows
    this.version = 0
  }
}

const subscriptions = new Set()

export function subscribe(query, rows) {
  const sub = new Subscription(query, rows)
  subscriptions.add(sub)
  return { sub, unsubscribe: () => subscriptions.delete(sub) }
}

export function notifyAll() {
  for (const sub of subscriptions) sub.version++
  return subscriptions.size
}
