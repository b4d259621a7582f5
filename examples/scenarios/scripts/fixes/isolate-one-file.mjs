// array-clear: afterEach(commit) — staged.length = 0
export default async ({ load }) => { (await load('src/importer.js')).commit() }
