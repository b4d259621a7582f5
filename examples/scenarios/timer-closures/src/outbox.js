// An outbox that retries failed deliveries later. Each retry is a timer whose closure keeps the
// message (and its payload) until it fires; cancelAll() clears them. The tests exercise the failure
// path and never cancel, so the retry timers — a minute away — outlive every test file.
export class OutboundMessage {
  constructor(to, subject, body) {
    this.to = to
    this.subject = subject
    this.body = body
    this.attempts = 0
  }
}

const RETRY_MS = 60_000

export function createOutbox(transport) {
  const pending = new Set()
  return {
    async send(message) {
      message.attempts++
      try {
        await transport(message)
        return 'sent'
      } catch {
        const timer = setTimeout(() => {
          pending.delete(timer)
          this.send(message)
        }, RETRY_MS)
        pending.add(timer)
        return 'retry-scheduled'
      }
    },
    pendingCount: () => pending.size,
    cancelAll() {
      for (const timer of pending) clearTimeout(timer)
      pending.clear()
    },
  }
}
