import { bus } from './bus.js'

// A read model kept up to date from bus events. subscribe() returns the unsubscribe function;
// the tests drop it, so each projection's listener (and the rows its closure keeps) stays on `bus`.
export function orderTotals() {
  const rows = []
  const onPlaced = (order) => {
    for (const line of order.lines) rows.push({ orderId: order.id, sku: line.sku, qty: line.qty, total: line.qty * line.price })
  }
  bus.on('order:placed', onPlaced)
  return {
    rows,
    unsubscribe: () => bus.off('order:placed', onPlaced),
  }
}

export function placeOrder(id, lines) {
  bus.emit('order:placed', { id, lines })
}
