import { randomBytes } from 'node:crypto'

export class Job {
  constructor(queue, n) {
    this.queue = queue
    this.n = n
    this.payload = randomBytes(96).toString('base64')
    this.state = 'pending'
  }
}

// A queue that wants to flush its pending jobs when the process exits.
export class JobQueue {
  constructor(name, size) {
    this.name = name
    this.jobs = []
    for (let i = 0; i < size; i++) this.jobs.push(new Job(name, i))
  }

  flushOnExit() {
    const onExit = () => this.flush()
    process.on('exit', onExit)
    return onExit // the caller should process.removeListener('exit', onExit) when done
  }

  flush() {
    for (const job of this.jobs) job.state = 'flushed'
  }
}
