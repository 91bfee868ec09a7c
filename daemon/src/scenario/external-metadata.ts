import { compileJsonPath, type InvalidReason, isPlausibleUs, parseJsonPath } from '@iotload/sdk'
import { z } from 'zod'

/** How an external iPaaS wrote the origin timestamp it copied from the telemetry message. */
export const timestampFormatSchema = z.enum(['epoch-us', 'epoch-ms', 'iso8601'])

/**
 * `consumer.external`: the messages come from a foreign transformer (SnapLogic, Losant, Camel…)
 * that does not keep iotload's envelope, only the origin timestamp (and maybe device and seq) at
 * JSON paths of its choosing.
 */
export const externalMetadataSchema = z
  .object({
    /** JSON path of the origin send time, e.g. `$.original.lastUpdated`. */
    timestampPath: z.string().min(1),
    /** Encoding of that timestamp. ISO-8601 keeps the fraction digits it carries (ms → 1 ms resolution). */
    format: timestampFormatSchema,
    /** JSON path of the device: an index, or a string ending in one (`tracker-7`). Enables per-device sequences. */
    devicePath: z.string().min(1).optional(),
    /** JSON path of the per-device sequence number; enables loss, duplicate and reorder detection per message. */
    seqPath: z.string().min(1).optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    for (const key of ['timestampPath', 'devicePath', 'seqPath'] as const) {
      const path = c[key]
      if (path === undefined) continue
      try {
        parseJsonPath(path)
      } catch (err) {
        ctx.addIssue({ code: 'custom', path: [key], message: (err as Error).message })
      }
    }
  })

/** Parsed `consumer.external`. */
export type ExternalMetadataConfig = z.output<typeof externalMetadataSchema>

/** One decoded foreign message. `resolutionUs` is what one unit of the timestamp is worth. */
export type ExternalDecodeResult =
  | { ok: true; tUs: number; resolutionUs: number; dev: number | undefined; seq: number | undefined }
  | { ok: false; reason: InvalidReason }

const ISO = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:[.,](\d{1,9}))?(Z|[+-]\d{2}:?\d{2})$/

/** Parses an ISO-8601 instant to µs, keeping sub-millisecond digits Date.parse would drop. */
export function parseIsoUs(text: string): { us: number; resolutionUs: number } | undefined {
  const m = ISO.exec(text)
  if (!m) return undefined
  const wholeMs = Date.parse(`${m[1]}${m[3]}`)
  if (Number.isNaN(wholeMs)) return undefined
  const frac = m[2] ?? ''
  const fracUs = frac === '' ? 0 : Math.floor(Number(`0.${frac}`) * 1e6 + 1e-6)
  return { us: wholeMs * 1000 + fracUs, resolutionUs: Math.max(1, 10 ** (6 - frac.length)) }
}

function asNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined
  if (typeof v === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(v)) return Number(v)
  return undefined
}

function asIndex(v: unknown): number | undefined {
  if (typeof v === 'string') {
    const m = /(\d+)$/.exec(v)
    v = m ? Number(m[1]) : undefined
  }
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : undefined
}

function decodeTimestamp(
  v: unknown,
  format: ExternalMetadataConfig['format'],
): { us: number; resolutionUs: number } | undefined {
  if (format === 'iso8601') return typeof v === 'string' ? parseIsoUs(v) : undefined
  const n = asNumber(v)
  if (n === undefined) return undefined
  if (format === 'epoch-us') return { us: Math.round(n), resolutionUs: 1 }
  // Fractional epoch-ms (1732615200123.456) carries finer resolution than whole ms.
  const frac = typeof v === 'string' ? (v.split('.')[1]?.length ?? 0) : Number.isInteger(n) ? 0 : 3
  return { us: Math.round(n * 1000), resolutionUs: Math.max(1, 10 ** (3 - Math.min(3, frac))) }
}

/**
 * Compiles the decoder for foreign messages. Never throws on a message: a missing path is
 * `no-metadata`, an unusable value `bad-metadata`; both are counted invalid, never a latency.
 */
export function compileExternalDecoder(
  config: ExternalMetadataConfig,
): (payload: Uint8Array) => ExternalDecodeResult {
  const ts = compileJsonPath(config.timestampPath)
  const dev = config.devicePath ? compileJsonPath(config.devicePath) : undefined
  const seq = config.seqPath ? compileJsonPath(config.seqPath) : undefined
  return (payload) => {
    let doc: unknown
    try {
      doc = JSON.parse(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8'))
    } catch {
      return { ok: false, reason: 'not-json' }
    }
    const raw = ts(doc)
    if (raw === undefined || raw === null) return { ok: false, reason: 'no-metadata' }
    const t = decodeTimestamp(raw, config.format)
    if (!t || !isPlausibleUs(t.us)) return { ok: false, reason: 'bad-metadata' }
    let d: number | undefined
    let s: number | undefined
    if (dev) {
      d = asIndex(dev(doc))
      if (d === undefined) return { ok: false, reason: 'bad-metadata' }
    }
    if (seq) {
      s = asIndex(seq(doc))
      if (s === undefined) return { ok: false, reason: 'bad-metadata' }
    }
    return { ok: true, tUs: t.us, resolutionUs: t.resolutionUs, dev: d, seq: s }
  }
}
