import { randomBytes } from 'node:crypto'

export class Sample {
  constructor(source, n) {
    this.source = source
    this.n = n
    this.at = Date.now()
    this.labels = randomBytes(96).toString('base64')
  }
}

// Polls a source every `everyMs` and keeps its samples. stop() clears the interval; nobody calls it.
export class MetricsPoller {
  constructor(source, everyMs = 100) {
    this.source = source
    this.samples = []
    this.record(5000)
    this.timer = setInterval(() => this.record(20), everyMs)
  }

  record(count) {
    for (let i = 0; i < count; i++) this.samples.push(new Sample(this.source, this.samples.length))
  }

  stop() {
    clearInterval(this.timer)
  }
}
