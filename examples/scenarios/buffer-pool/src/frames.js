// A pool of fixed-size frame buffers for a video encoder: acquire() hands out a free frame or
// allocates one, release() returns it (keeping at most `maxFree` idle frames for reuse). Frames that
// are never released stay in `leased` forever.
export class BufferPool {
  constructor(frameSize, maxFree) {
    this.frameSize = frameSize
    this.maxFree = maxFree
    this.free = []
    this.leased = new Set()
  }

  acquire() {
    const frame = this.free.pop() ?? Buffer.allocUnsafeSlow(this.frameSize)
    this.leased.add(frame)
    return frame
  }

  release(frame) {
    if (this.leased.delete(frame) && this.free.length < this.maxFree) this.free.push(frame)
  }

  releaseAll() {
    for (const frame of [...this.leased]) this.release(frame)
  }

  get inUse() {
    return this.leased.size
  }
}

export const framePool = new BufferPool(256 * 1024, 8)

export function encode(frames, seed) {
  let checksum = 0
  for (const frame of frames) {
    frame.fill(seed & 0xff)
    checksum = (checksum + frame[0] + frame.length) >>> 0
  }
  return checksum
}
