// The order ledger of the reporting service: every order placed is appended to a module-level
// array that nothing truncates. clearLedger() exists; the tests never call it.
export class Order {
  constructor(id, customer, total, lines) {
    this.id = id
    this.customer = customer
    this.total = total
    this.lines = lines
    this.placedAt = Date.now()
    this.status = 'placed'
  }
}

export const orders = []

export function placeOrder(id, customer, lines) {
  const total = lines.reduce((sum, l) => sum + l.qty * l.price, 0)
  const order = new Order(id, customer, total, lines)
  orders.push(order)
  return order
}

export function clearLedger() {
  orders.length = 0
}
