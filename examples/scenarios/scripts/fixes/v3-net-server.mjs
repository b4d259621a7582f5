// close: presence.stop() — server.close() on every listening server
export default async ({ servers }) => {
  await Promise.all(servers().map((server) => new Promise((resolve) => server.close(resolve))))
}
