// close: closeAll() — db.close() for every handle in openDatabases, which is emptied
export default async ({ load }) => (await load('src/db.js')).closeAll()
