// A validation library: validate() checks a value against a named rule and writes an audit entry,
// so a failed form can be explained later. The audit log is a module-level array that is never
// trimmed: a little per call, and a long suite in a shared worker (isolate=false) keeps all of it.
export class AuditEntry {
  constructor(rule, value, ok) {
    this.rule = rule
    this.value = value
    this.ok = ok
    this.message = `${rule}: ${JSON.stringify(value)} ${ok ? 'accepted' : 'rejected'} by the ${rule} rule`.padEnd(160, '.')
  }
}

const auditLog = []

const RULES = {
  email: (v) => /^[^@\s]+@[^@\s]+\.[a-z]{2,}$/.test(v),
  digits: (v) => /^\d+$/.test(v),
  slug: (v) => /^[a-z0-9]+(?:-[a-z0-9]+)*$/.test(v),
  short: (v) => String(v).length <= 12,
}

export function validate(rule, value) {
  const check = RULES[rule] ?? RULES.short
  const ok = check(value)
  auditLog.push(new AuditEntry(rule, value, ok))
  return ok
}

export function auditSize() {
  return auditLog.length
}

// The cleanup the tests forget (afterAll(trimAudit)).
export function trimAudit() {
  auditLog.length = 0
}
