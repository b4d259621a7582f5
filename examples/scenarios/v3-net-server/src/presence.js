import net from 'node:net'

export class ClientSession {
  constructor(id, remote) {
    this.id = id
    this.remote = remote
    this.lines = []
    this.connectedAt = Date.now()
  }
}

// A line-protocol presence server. Every connection gets a ClientSession that stays in the server's
// history (for the admin view) until the server is closed; stop() closes it. The tests start one per
// file and never stop it, so the listening server and all its sessions live as long as the worker.
export async function startPresenceServer() {
  const history = []
  const server = net.createServer((socket) => {
    const session = new ClientSession(history.length + 1, `${socket.remoteAddress}:${socket.remotePort}`)
    history.push(session)
    socket.setEncoding('utf8')
    socket.on('data', (chunk) => {
      for (const line of chunk.split('\n').filter(Boolean)) session.lines.push(line)
      socket.write(`ok ${session.lines.length}\n`)
    })
  })
  server.history = history
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    server,
    port: server.address().port,
    stop: () => new Promise((resolve) => server.close(resolve)),
  }
}

// One client connection: sends `lines` lines and closes once the server has acknowledged them.
export function chat(port, lines) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1')
    let acked = 0
    socket.setEncoding('utf8')
    socket.on('data', (chunk) => {
      for (const line of chunk.split('\n').filter(Boolean)) acked = Number(line.split(' ')[1])
      if (acked >= lines.length) socket.end()
    })
    socket.on('close', () => resolve(acked))
    socket.on('error', reject)
    socket.write(lines.join('\n') + '\n')
  })
}
