import { type EnvelopeMeta, type HopStamp, type InvalidReason, isPlausibleUs } from './metadata.ts'

/**
 * Binary envelope, little-endian, for maximum-rate tests:
 *
 * | offset | size | field                                   |
 * |--------|------|-----------------------------------------|
 * | 0      | 4    | magic `IOTL`                            |
 * | 4      | 1    | version (1)                             |
 * | 5      | 1    | flags (bit 0: warm-up, bit 1: trace)    |
 * | 6      | 1    | hop count h                             |
 * | 7      | 1    | reserved                                |
 * | 8      | 4    | run tag (FNV-1a of the run id)          |
 * | 12     | 4    | device index                            |
 * | 16     | 8    | seq (float64, exact below 2^53)         |
 * | 24     | 8    | t, µs (float64)                         |
 * | 32     | 8    | ti, µs (float64)                        |
 * | 40     | 16·h | hops: in, out (float64 each)            |
 * | …      | 25   | with bit 1: trace id 16, span id 8, flags 1 |
 * | …      |      | opaque body                             |
 */
export const BINARY_MAGIC = 0x4c544f49 // 'IOTL' read as uint32 LE
export const BINARY_VERSION = 1
export const BINARY_HEADER_BYTES = 40
export const BINARY_HOP_BYTES = 16
/** Trace context after the hops when flag bit 1 is set: trace id 16, span id 8, trace flags 1. */
export const BINARY_TRACE_BYTES = 25

const FLAG_WARMUP = 1
const FLAG_TRACE = 2
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/

/** Binary metadata: the run is a 32-bit tag, not the run id. */
export interface BinaryMeta extends Omit<EnvelopeMeta, 'run'> {
  runTag: number
}

/**
 * Encodes header plus body into a fresh buffer. A `tp` (W3C traceparent, version 00) is stored in
 * 25 bytes after the hops; decoders that predate it read those bytes as body, so latency stays right.
 */
export function encodeBinaryEnvelope(meta: BinaryMeta, body: Uint8Array): Buffer {
  const hops = meta.hops ?? []
  const trace = meta.tp ? TRACEPARENT.exec(meta.tp) : null
  const headerBytes = BINARY_HEADER_BYTES + BINARY_HOP_BYTES * hops.length + (trace ? BINARY_TRACE_BYTES : 0)
  const buf = Buffer.allocUnsafe(headerBytes + body.length)
  buf.writeUInt32LE(BINARY_MAGIC, 0)
  buf.writeUInt8(BINARY_VERSION, 4)
  buf.writeUInt8((meta.warmup ? FLAG_WARMUP : 0) | (trace ? FLAG_TRACE : 0), 5)
  buf.writeUInt8(hops.length, 6)
  buf.writeUInt8(0, 7)
  buf.writeUInt32LE(meta.runTag >>> 0, 8)
  buf.writeUInt32LE(meta.dev >>> 0, 12)
  buf.writeDoubleLE(meta.seq, 16)
  buf.writeDoubleLE(meta.t, 24)
  buf.writeDoubleLE(meta.ti, 32)
  let off = BINARY_HEADER_BYTES
  for (const h of hops) {
    buf.writeDoubleLE(h.in, off)
    buf.writeDoubleLE(h.out, off + 8)
    off += BINARY_HOP_BYTES
  }
  if (trace) {
    buf.write(trace[1]!, off, 16, 'hex')
    buf.write(trace[2]!, off + 16, 8, 'hex')
    buf.write(trace[3]!, off + 24, 1, 'hex')
    off += BINARY_TRACE_BYTES
  }
  buf.set(body, off)
  return buf
}

/** True when the payload starts with the binary magic. */
export function isBinaryEnvelope(payload: Uint8Array): boolean {
  return (
    payload.length >= 4 &&
    payload[0] === 0x49 &&
    payload[1] === 0x4f &&
    payload[2] === 0x54 &&
    payload[3] === 0x4c
  )
}

/** Result of decoding a binary payload. */
export type BinaryDecodeResult =
  | { ok: true; meta: BinaryMeta; bodyOffset: number }
  | { ok: false; reason: InvalidReason }

/** Decodes a binary-envelope payload. Never throws. */
export function decodeBinaryEnvelope(payload: Uint8Array): BinaryDecodeResult {
  if (!isBinaryEnvelope(payload)) return { ok: false, reason: 'no-metadata' }
  if (payload.length < BINARY_HEADER_BYTES) return { ok: false, reason: 'truncated' }
  const buf = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength)
  if (buf.readUInt8(4) !== BINARY_VERSION) return { ok: false, reason: 'bad-metadata' }
  const flags = buf.readUInt8(5)
  const hopCount = buf.readUInt8(6)
  const traceOffset = BINARY_HEADER_BYTES + BINARY_HOP_BYTES * hopCount
  const bodyOffset = traceOffset + (flags & FLAG_TRACE ? BINARY_TRACE_BYTES : 0)
  if (payload.length < bodyOffset) return { ok: false, reason: 'truncated' }
  const seq = buf.readDoubleLE(16)
  const t = buf.readDoubleLE(24)
  const ti = buf.readDoubleLE(32)
  if (!Number.isSafeInteger(seq) || seq < 0 || !isPlausibleUs(t) || !isPlausibleUs(ti)) {
    return { ok: false, reason: 'bad-metadata' }
  }
  const meta: BinaryMeta = { runTag: buf.readUInt32LE(8), dev: buf.readUInt32LE(12), seq, t, ti }
  if (flags & FLAG_WARMUP) meta.warmup = true
  if (flags & FLAG_TRACE)
    meta.tp = `00-${buf.toString('hex', traceOffset, traceOffset + 16)}-${buf.toString('hex', traceOffset + 16, traceOffset + 24)}-${buf.toString('hex', traceOffset + 24, traceOffset + 25)}`
  if (hopCount > 0) {
    const hops: HopStamp[] = []
    for (let i = 0, off = BINARY_HEADER_BYTES; i < hopCount; i++, off += BINARY_HOP_BYTES) {
      const hin = buf.readDoubleLE(off)
      const hout = buf.readDoubleLE(off + 8)
      if (!isPlausibleUs(hin) || !isPlausibleUs(hout)) return { ok: false, reason: 'bad-metadata' }
      hops.push({ by: 'bridge', in: hin, out: hout })
    }
    meta.hops = hops
  }
  return { ok: true, meta, bodyOffset }
}

/**
 * Returns a copy of `payload` with one more hop appended (used by bridges), and the trace context
 * replaced by `tp` when given (the bridge span's), else kept.
 */
export function appendBinaryHop(payload: Uint8Array, hop: HopStamp, tp?: string): Buffer | null {
  const decoded = decodeBinaryEnvelope(payload)
  if (!decoded.ok) return null
  const hops = [...(decoded.meta.hops ?? []), hop]
  const meta: BinaryMeta = { ...decoded.meta, hops }
  if (tp) meta.tp = tp
  return encodeBinaryEnvelope(meta, payload.subarray(decoded.bodyOffset))
}
