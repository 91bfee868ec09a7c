import type { TimestampFormat } from '../scenario/external-metadata.ts'

/** A timestamp read from a foreign message: µs since the epoch, and what one unit of it is worth. */
export interface ForeignTime {
  us: number
  resolutionUs: number
}

const ISO = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:[.,](\d{1,9}))?(Z|[+-]\d{2}:?\d{2})$/

/** Parses an ISO-8601 instant to µs, keeping sub-millisecond digits Date.parse would drop. */
export function parseIsoUs(text: string): ForeignTime | undefined {
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

/** A device or sequence number: a non-negative integer, or a string ending in one (`tracker-7`). */
export function asIndex(v: unknown): number | undefined {
  if (typeof v === 'string') {
    const m = /(\d+)$/.exec(v)
    v = m ? Number(m[1]) : undefined
  }
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : undefined
}

/** Decodes a timestamp value in the given format; undefined when it is not one. */
export function decodeTimestamp(v: unknown, format: TimestampFormat): ForeignTime | undefined {
  if (format === 'iso8601') return typeof v === 'string' ? parseIsoUs(v) : undefined
  const n = asNumber(v)
  if (n === undefined) return undefined
  if (format === 'epoch-us') return { us: Math.round(n), resolutionUs: 1 }
  // Fractional epoch-ms (1732615200123.456) carries finer resolution than whole ms.
  const frac = typeof v === 'string' ? (v.split('.')[1]?.length ?? 0) : Number.isInteger(n) ? 0 : 3
  return { us: Math.round(n * 1000), resolutionUs: Math.max(1, 10 ** (3 - Math.min(3, frac))) }
}
