import Database from 'better-sqlite3'

export class Customer {
  constructor(row) {
    this.id = row.id
    this.name = row.name
    this.email = row.email
    this.notes = row.notes
  }
}

// Every test database opened by openTestDb() is remembered here so that closeAll() can close it;
// the tests never call closeAll(), so the handles (and the rows loaded through them) stay open.
const openDatabases = []

export function openTestDb(name, rows) {
  const db = new Database(':memory:')
  db.exec('create table customers (id integer primary key, name text, email text, notes text)')
  const insert = db.prepare('insert into customers (name, email, notes) values (?, ?, ?)')
  db.transaction(() => {
    for (let i = 0; i < rows; i++) insert.run(`${name}-${i}`, `${name}-${i}@example.test`, 'n'.repeat(200))
  })()
  const handle = {
    name,
    db,
    statements: { insert, all: db.prepare('select * from customers') },
    customers: [],
  }
  handle.customers = handle.statements.all.all().map((row) => new Customer(row))
  openDatabases.push(handle)
  return handle
}

export function closeAll() {
  for (const h of openDatabases.splice(0)) h.db.close()
}
