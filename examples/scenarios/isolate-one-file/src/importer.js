// A CSV importer that stages parsed rows before committing them. commit() is supposed to empty the
// stage; the importer tests only exercise parsing, so the stage keeps growing within that file.
export class StagedRow {
  constructor(line, cells) {
    this.line = line
    this.cells = cells
    this.valid = cells.length === 4
  }
}

const staged = []

export function stage(csv) {
  const rows = csv.split('\n').filter(Boolean).map((text, i) => new StagedRow(i + 1, text.split(',')))
  staged.push(...rows)
  return rows.length
}

export function stagedCount() {
  return staged.length
}

export function commit() {
  const n = staged.length
  staged.length = 0
  return n
}
