/** Pulsar's default maxMessageSize is 5 MiB; a frame adds its command and metadata. */
export const MAX_FRAME_BYTES = 5 * 1024 * 1024 + 64 * 1024
/** First capacity of a frame split across chunks; doubled as its bytes arrive. */
const FIRST_CAPACITY = 64 * 1024

/**
 * Cuts a TCP byte stream into Pulsar frames (`[total u32][total bytes]`), handing each frame's
 * bytes after the size field to `onFrame` as a view. Chunks holding whole frames are not copied.
 * A frame split across chunks is assembled in one buffer that grows with what has arrived (at
 * most twice that): a broker that announces 5 MiB and sends a byte at a time costs neither 5 MiB
 * up front nor a Buffer per byte.
 */
export class FrameSplitter {
  /** Up to 3 bytes of a size field cut by a chunk boundary. */
  private head: Buffer | undefined
  private frame: Buffer | undefined
  private frameSize = 0
  private filled = 0

  constructor(private readonly onFrame: (frame: Uint8Array) => void) {}

  push(input: Buffer): void {
    let chunk = input
    let at = 0
    if (this.frame !== undefined) {
      const n = Math.min(this.frameSize - this.filled, chunk.length)
      this.ensure(this.filled + n)
      chunk.copy(this.frame, this.filled, 0, n)
      this.filled += n
      at = n
      if (this.filled < this.frameSize) return
      const whole = this.frame.subarray(0, this.frameSize)
      this.frame = undefined
      this.onFrame(whole)
    } else if (this.head !== undefined) {
      chunk = Buffer.concat([this.head, chunk])
      this.head = undefined
    }
    while (chunk.length - at >= 4) {
      const size = chunk.readUInt32BE(at)
      if (size > MAX_FRAME_BYTES) throw new Error(`frame of ${size} bytes exceeds ${MAX_FRAME_BYTES}`)
      const available = chunk.length - at - 4
      if (available < size) {
        this.frameSize = size
        this.frame = Buffer.allocUnsafe(Math.min(size, Math.max(FIRST_CAPACITY, available)))
        this.filled = chunk.copy(this.frame, 0, at + 4)
        return
      }
      this.onFrame(chunk.subarray(at + 4, at + 4 + size))
      at += 4 + size
    }
    if (at < chunk.length) this.head = Buffer.from(chunk.subarray(at))
  }

  /** Drops a partial frame (the socket it came from is gone). */
  reset(): void {
    this.head = undefined
    this.frame = undefined
    this.filled = 0
  }

  private ensure(capacity: number): void {
    const frame = this.frame as Buffer
    if (capacity <= frame.length) return
    const next = Buffer.allocUnsafe(Math.min(this.frameSize, Math.max(capacity, frame.length * 2)))
    frame.copy(next, 0, 0, this.filled)
    this.frame = next
  }
}
