// Builds a report from a large temporary data set; nothing outlives the call.
export function buildReport(seed, rows) {
  const data = []
  for (let i = 0; i < rows; i++) data.push({ id: i, key: `${seed}-${i}`, value: (i * 7919) % 1000, blob: Buffer.alloc(256, i) })
  data.sort((a, b) => a.value - b.value || a.id - b.id)
  let sum = 0
  for (const row of data) sum += row.value + row.blob[0]
  return { seed, rows: data.length, sum, top: data.slice(0, 3).map((r) => r.key) }
}
