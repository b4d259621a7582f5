import { onShutdown } from './lifecycle.js'

export class Connection {
  constructor(pool, n) {
    this.pool = pool
    this.n = n
    this.readBuffer = `conn ${pool}#${n} `.padEnd(512, '.')
    this.open = true
  }

  close() {
    this.open = false
  }
}

// A connection pool that closes its connections on shutdown. The handle returned by onShutdown()
// unregisters it; close() is supposed to call it and the tests never call close().
export function createPool(name, size) {
  const connections = Array.from({ length: size }, (_, n) => new Connection(name, n))
  const unregister = onShutdown(() => connections.forEach((c) => c.close()))
  return {
    connections,
    query: (sql) => ({ sql, rows: connections.length }),
    close() {
      connections.forEach((c) => c.close())
      unregister()
    },
  }
}
