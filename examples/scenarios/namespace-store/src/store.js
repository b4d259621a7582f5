// The audit store of a small billing service: module-level state, exported and read by callers
// through the module namespace (`import * as store from '../src/store.js'`). In a shared worker
// (isolate=false) this module is evaluated once, so `auditTrail` collects every test file's events.
export class AuditEvent {
  constructor(actor, action, subject, detail) {
    this.actor = actor
    this.action = action
    this.subject = subject
    this.detail = detail
    this.at = Date.now()
  }
}

export const auditTrail = []

export function record(actor, action, subject, detail) {
  const event = new AuditEvent(actor, action, subject, detail)
  auditTrail.push(event)
  return event
}

export function eventsFor(subject) {
  return auditTrail.filter((e) => e.subject === subject)
}

// What a test should call in afterEach: empties the trail in place (callers hold the same array).
export function resetStore() {
  auditTrail.length = 0
}
