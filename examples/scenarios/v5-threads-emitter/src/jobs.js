import { EventEmitter } from 'node:events'

export class JobResult {
  constructor(job, output) {
    this.job = job
    this.output = output
    this.finishedAt = Date.now()
  }
}

// The job runner's event stream, a typed emitter shared by the whole app.
export class JobEvents extends EventEmitter {
  done(job, output) {
    this.emit('done', new JobResult(job, output))
  }
}

export const jobEvents = new JobEvents()
jobEvents.setMaxListeners(100)

// Collects the results of the jobs it watches. stop() removes the listener; the tests never call it.
export function watchJobs(prefix) {
  const results = []
  const onDone = (result) => { if (result.job.startsWith(prefix)) results.push(result) }
  jobEvents.on('done', onDone)
  return { results, stop: () => jobEvents.off('done', onDone) }
}
