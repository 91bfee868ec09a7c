/**
 * The few protobuf (proto2) wire primitives Pulsar's binary protocol needs: varints, bools,
 * strings, bytes and nested messages. Hand-written because the command set is small and the send
 * path must not allocate an object graph per message.
 */

const WIRE_VARINT = 0
const WIRE_FIXED64 = 1
const WIRE_LENGTH = 2
const WIRE_FIXED32 = 5

/** Appends protobuf fields into one growable buffer; `finish()` returns the bytes written. */
export class ProtoWriter {
  private buf: Buffer
  private pos = 0

  constructor(initialSize = 256) {
    this.buf = Buffer.allocUnsafe(initialSize)
  }

  /** Forgets what was written, keeping the buffer. */
  reset(): this {
    this.pos = 0
    return this
  }

  get length(): number {
    return this.pos
  }

  /** A view of the bytes written so far (valid until the next write or reset). */
  view(): Buffer {
    return this.buf.subarray(0, this.pos)
  }

  /** A copy of the bytes written so far. */
  finish(): Buffer {
    return Buffer.from(this.view())
  }

  /** Copies the bytes written so far into `target` at `offset`; returns the end offset. */
  copyTo(target: Buffer, offset: number): number {
    return offset + this.buf.copy(target, offset, 0, this.pos)
  }

  uint(field: number, value: number): this {
    this.rawVarint((field << 3) | WIRE_VARINT)
    this.rawVarint(value)
    return this
  }

  bool(field: number, value: boolean): this {
    return this.uint(field, value ? 1 : 0)
  }

  string(field: number, value: string): this {
    const n = Buffer.byteLength(value)
    this.rawVarint((field << 3) | WIRE_LENGTH)
    this.rawVarint(n)
    this.ensure(n)
    this.pos += this.buf.write(value, this.pos, 'utf8')
    return this
  }

  bytes(field: number, value: Uint8Array): this {
    this.rawVarint((field << 3) | WIRE_LENGTH)
    this.rawVarint(value.length)
    this.ensure(value.length)
    this.buf.set(value, this.pos)
    this.pos += value.length
    return this
  }

  /**
   * A nested message written in place: a one-byte length is reserved and the body moved only if
   * it turns out 128 bytes or longer.
   */
  message(field: number, body: (w: this) => void): this {
    this.rawVarint((field << 3) | WIRE_LENGTH)
    this.ensure(1)
    const lengthAt = this.pos
    this.pos++
    const start = this.pos
    body(this)
    const n = this.pos - start
    const extra = varintSize(n) - 1
    if (extra > 0) {
      this.ensure(extra)
      this.buf.copyWithin(start + extra, start, this.pos)
      this.pos += extra
    }
    let at = lengthAt
    let v = n
    while (v >= 0x80) {
      this.buf[at++] = (v & 0x7f) | 0x80
      v = Math.floor(v / 128)
    }
    this.buf[at] = v
    return this
  }

  /** An unsigned varint (up to 2^53). */
  rawVarint(value: number): void {
    this.ensure(10)
    let v = value
    while (v >= 0x80) {
      this.buf[this.pos++] = (v & 0x7f) | 0x80
      v = Math.floor(v / 128)
    }
    this.buf[this.pos++] = v
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n))
    this.buf.copy(next, 0, 0, this.pos)
    this.buf = next
  }
}

/** Bytes a varint of `value` takes. */
export function varintSize(value: number): number {
  let n = 1
  let v = value
  while (v >= 0x80) {
    n++
    v = Math.floor(v / 128)
  }
  return n
}

/** Thrown on bytes that are not a well-formed protobuf message. */
export class ProtoError extends Error {}

/**
 * Walks the fields of one message: `while (r.next()) switch (r.field) { … r.uint() … default: r.skip() }`.
 * Values are read as they are met; length-delimited ones come back as views, not copies.
 */
export class ProtoReader {
  field = 0
  private wire = 0
  private pos: number

  constructor(
    private readonly buf: Uint8Array,
    start = 0,
    private readonly end = buf.length,
  ) {
    this.pos = start
  }

  /** A reader of the same message from the current position, for a look ahead. */
  fork(): ProtoReader {
    return new ProtoReader(this.buf, this.pos, this.end)
  }

  /** Moves to the next field; false at the end. */
  next(): boolean {
    if (this.pos >= this.end) return false
    const key = this.rawVarint()
    this.field = Math.floor(key / 8)
    this.wire = key & 7
    return true
  }

  uint(): number {
    return this.rawVarint()
  }

  bool(): boolean {
    return this.rawVarint() !== 0
  }

  /** A length-delimited value as a view into the buffer. */
  bytes(): Uint8Array {
    const n = this.rawVarint()
    const start = this.pos
    this.pos += n
    if (this.pos > this.end) throw new ProtoError('length-delimited field runs past the message')
    return this.buf.subarray(start, this.pos)
  }

  string(): string {
    const b = this.bytes()
    return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8')
  }

  /** A nested message's reader. */
  message(): ProtoReader {
    const b = this.bytes()
    return new ProtoReader(b)
  }

  /** Skips the current field's value. */
  skip(): void {
    switch (this.wire) {
      case WIRE_VARINT:
        this.rawVarint()
        return
      case WIRE_FIXED64:
        this.pos += 8
        break
      case WIRE_LENGTH:
        this.bytes()
        return
      case WIRE_FIXED32:
        this.pos += 4
        break
      default:
        throw new ProtoError(`unsupported wire type ${this.wire}`)
    }
    if (this.pos > this.end) throw new ProtoError('field runs past the message')
  }

  private rawVarint(): number {
    let result = 0
    let scale = 1
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new ProtoError('truncated varint')
      const b = this.buf[this.pos++] as number
      result += (b & 0x7f) * scale
      if (b < 0x80) return result
      scale *= 128
    }
    throw new ProtoError('varint longer than 10 bytes')
  }
}
