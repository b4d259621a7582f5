import http from 'node:http'

export class RequestRecord {
  constructor(method, url, body) {
    this.method = method
    this.url = url
    this.body = body
    this.at = Date.now()
  }
}

export class LineItem {
  constructor(sku, qty) {
    this.sku = sku
    this.qty = qty
  }
}

// An order API for tests. Every server keeps a log of what it received (RequestRecord, LineItem);
// stop() closes it. The tests start one per file and never stop it, so the listening server, its
// keep-alive sockets and its whole request log live as long as the worker.
export async function startOrderServer() {
  const requestLog = []
  const server = http.createServer((req, res) => {
    let body = ''
    req.setEncoding('utf8')
    req.on('data', (chunk) => { body += chunk })
    req.on('end', () => {
      const order = JSON.parse(body)
      const record = new RequestRecord(req.method, req.url, body)
      record.items = order.items.map(([sku, qty]) => new LineItem(sku, qty))
      requestLog.push(record)
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify({ ok: true, n: requestLog.length }))
    })
  })
  server.requestLog = requestLog
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address()
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 })
  return {
    server,
    agent,
    url: `http://127.0.0.1:${port}`,
    stop: () => new Promise((resolve) => { agent.destroy(); server.close(resolve) }),
  }
}

export function postJson(api, path, doc) {
  return new Promise((resolve, reject) => {
    const req = http.request(`${api.url}${path}`, { method: 'POST', agent: api.agent,
      headers: { 'content-type': 'application/json' } }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (c) => { text += c })
      res.on('end', () => resolve(JSON.parse(text)))
    })
    req.on('error', reject)
    req.end(JSON.stringify(doc))
  })
}
