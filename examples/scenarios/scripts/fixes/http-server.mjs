// close: api.stop() — server.close() on every listening server (and the keep-alive connections)
export default async ({ servers }) => {
  await Promise.all(servers().map((server) => new Promise((resolve) => {
    server.closeAllConnections?.()
    server.close(resolve)
  })))
}
