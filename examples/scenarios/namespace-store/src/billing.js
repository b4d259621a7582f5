import * as store from './store.js'

export function charge(account, cents) {
  store.record(account, 'charge', `invoice-${account}`, { cents, currency: 'EUR', note: `charge ${cents} for ${account}`.padEnd(120, '.') })
  return { account, cents }
}

export function refund(account, cents) {
  store.record(account, 'refund', `invoice-${account}`, { cents: -cents, currency: 'EUR', note: `refund ${cents} for ${account}`.padEnd(120, '.') })
  return { account, cents: -cents }
}
