import { randomBytes } from 'node:crypto'

export class Recipient {
  constructor(address, kind) {
    this.address = address
    this.kind = kind
  }
}

export class Envelope {
  constructor(to, subject) {
    this.to = to
    this.recipients = [new Recipient(to, 'to'), new Recipient(`cc-${to}`, 'cc'), new Recipient(`bcc-${to}`, 'bcc')]
    this.subject = subject
    this.body = randomBytes(96).toString('base64')
    this.headers = { 'x-test': subject }
  }
}

export async function notifyAll(send, users, subject) {
  for (const user of users) await send(new Envelope(user, subject))
}
