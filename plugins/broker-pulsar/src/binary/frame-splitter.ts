/** Pulsar's default maxMessageSize is 5 MiB; a frame adds its command and metadata. */
export const MAX_FRAME_BYTES = 5 * 1024 * 1024 + 64 * 1024

/**
 * Cuts a TCP byte stream into Pulsar frames (`[total u32][total bytes]`), handing each frame's
 * bytes after the size field to `onFrame` as a view. Chunks holding whole frames are not copied;
 * a frame split across chunks is joined once, when its last byte has arrived.
 */
export class FrameSplitter {
  private parts: Buffer[] = []
  private partsLength = 0
  private need = 0

  constructor(private readonly onFrame: (frame: Uint8Array) => void) {}

  push(chunk: Buffer): void {
    let buf = chunk
    if (this.partsLength > 0) {
      this.parts.push(chunk)
      this.partsLength += chunk.length
      if (this.partsLength < this.need) return
      buf = Buffer.concat(this.parts, this.partsLength)
      this.parts = []
      this.partsLength = 0
    }
    let at = 0
    while (buf.length - at >= 4) {
      const size = buf.readUInt32BE(at)
      if (size > MAX_FRAME_BYTES) throw new Error(`frame of ${size} bytes exceeds ${MAX_FRAME_BYTES}`)
      if (buf.length - at - 4 < size) break
      this.onFrame(buf.subarray(at + 4, at + 4 + size))
      at += 4 + size
    }
    if (at < buf.length) {
      const rest = buf.subarray(at)
      this.parts.push(rest)
      this.partsLength = rest.length
      this.need = rest.length >= 4 ? 4 + rest.readUInt32BE(0) : 4
    }
  }

  /** Drops a partial frame (the socket it came from is gone). */
  reset(): void {
    this.parts = []
    this.partsLength = 0
    this.need = 0
  }
}
