// An in-memory blob store: put() keeps every Buffer in a module-level array until reset().
const blobs = []

export function put(name, size) {
  const data = Buffer.alloc(size, name.length % 251)
  blobs.push({ name, data })
  return data
}

export function blobCount() {
  return blobs.length
}

export function reset() {
  blobs.length = 0
}
