import { type EnvelopeMeta, type HopStamp, type InvalidReason, isIndex, isPlausibleUs } from './metadata.ts'

/** Longest `tp` kept (a W3C traceparent is 55 characters; later versions may add fields). */
const MAX_TRACEPARENT = 128

/** Member name of the metadata object inside a JSON payload. */
export const JSON_META_KEY = 'iotload'

/**
 * Prepends the metadata member to a rendered JSON object text, without re-parsing the body.
 * `body` must be a JSON object (`{...}`); the scenario loader checks that once.
 */
export function encodeJsonEnvelope(body: string, meta: EnvelopeMeta): string {
  return encodeJsonEnvelopeAfter(jsonEnvelopePrefix(meta.run, meta.dev), body, meta)
}

/**
 * The start of every JSON envelope of one device of one run, up to its seq: a producer computes
 * it once per device, so a send writes only the fields that change (see `encodeJsonEnvelopeAfter`).
 */
export function jsonEnvelopePrefix(run: string, dev: number): string {
  return `{"${JSON_META_KEY}":{"run":${JSON.stringify(run)},"dev":${dev},"seq":`
}

/** `encodeJsonEnvelope` with the device's prefix already made; `meta.run` and `meta.dev` are not read. */
export function encodeJsonEnvelopeAfter(
  prefix: string,
  body: string,
  meta: Pick<EnvelopeMeta, 'seq' | 't' | 'ti' | 'warmup' | 'hops' | 'tp'>,
): string {
  let m = `${prefix}${meta.seq},"t":${meta.t},"ti":${meta.ti}`
  if (meta.warmup) m += ',"w":1'
  if (meta.hops && meta.hops.length > 0) m += `,"hops":${JSON.stringify(meta.hops)}`
  if (meta.tp) m += `,"tp":${JSON.stringify(meta.tp)}`
  m += '}'
  const rest = body.slice(1).trimStart()
  return rest === '}' ? `${m}}` : `${m},${rest}`
}

/** Result of decoding a JSON payload: the metadata and the whole parsed object, or why not. */
export type JsonDecodeResult =
  | { ok: true; meta: EnvelopeMeta; doc: Record<string, unknown> }
  | { ok: false; reason: InvalidReason }

function parseHops(value: unknown): HopStamp[] | undefined | null {
  if (value === undefined) return undefined
  if (!Array.isArray(value)) return null
  const hops: HopStamp[] = []
  for (const h of value) {
    if (typeof h !== 'object' || h === null) return null
    const { by, in: hin, out, host } = h as Record<string, unknown>
    if (typeof by !== 'string' || !isPlausibleUs(hin) || !isPlausibleUs(out)) return null
    hops.push(typeof host === 'string' ? { by, in: hin, out, host } : { by, in: hin, out })
  }
  return hops
}

/** Validates a parsed `iotload` member; `null` when any field is missing or garbled. */
export function metaFromObject(raw: unknown): EnvelopeMeta | null {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return null
  const o = raw as Record<string, unknown>
  if (typeof o.run !== 'string' || !isIndex(o.dev) || !isIndex(o.seq)) return null
  if (!isPlausibleUs(o.t) || !isPlausibleUs(o.ti)) return null
  return withOptionalMembers({ run: o.run, dev: o.dev, seq: o.seq, t: o.t, ti: o.ti }, o)
}

/** Adds warm-up, hops and `tp` from the parsed metadata members `o`; null when hops are garbled. */
function withOptionalMembers(meta: EnvelopeMeta, o: Record<string, unknown>): EnvelopeMeta | null {
  const hops = parseHops(o.hops)
  if (hops === null) return null
  if (o.w === 1 || o.w === true) meta.warmup = true
  if (hops) meta.hops = hops
  // Not validated beyond its shape here: the tracer parses it and ignores a malformed one.
  if (typeof o.tp === 'string' && o.tp.length <= MAX_TRACEPARENT) meta.tp = o.tp
  return meta
}

/** Decodes a JSON-envelope payload. Never throws. */
export function decodeJsonEnvelope(payload: Uint8Array): JsonDecodeResult {
  let doc: unknown
  try {
    doc = JSON.parse(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8'))
  } catch {
    return { ok: false, reason: 'not-json' }
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    return { ok: false, reason: 'no-metadata' }
  const raw = (doc as Record<string, unknown>)[JSON_META_KEY]
  if (raw === undefined) return { ok: false, reason: 'no-metadata' }
  const meta = metaFromObject(raw)
  if (!meta) return { ok: false, reason: 'bad-metadata' }
  return { ok: true, meta, doc: doc as Record<string, unknown> }
}

/** Outcome of `decodeJsonMeta`: the metadata only. */
export type JsonMetaResult = { ok: true; meta: EnvelopeMeta } | { ok: false; reason: InvalidReason }

const PREFIX = Buffer.from(`{"${JSON_META_KEY}":{"run":"`, 'latin1')
const AFTER_RUN = Buffer.from('","dev":', 'latin1')
const SEQ = Buffer.from(',"seq":', 'latin1')
const T = Buffer.from(',"t":', 'latin1')
const TI = Buffer.from(',"ti":', 'latin1')
const WARMUP_END = Buffer.from(',"w":1}', 'latin1')
const QUOTE = 0x22
const BACKSLASH = 0x5c
const CLOSE_BRACE = 0x7d
const OPEN_BRACE = 0x7b
const OPEN_BRACKET = 0x5b
const CLOSE_BRACKET = 0x5d
const COMMA = 0x2c
/** 16 digits stay below 2^53; anything longer takes the full parse. */
const MAX_DIGITS = 16

/**
 * The metadata of a JSON-envelope payload, for consumers (they need nothing else). A payload laid
 * out as `encodeJsonEnvelope` writes it (what a consumer
 * sees) is read field by field in one pass over its first bytes, at about a third of the cost of
 * `JSON.parse` on the whole payload; members after `ti` (warm-up, a bridge's hops, `tp`) are
 * parsed on their own and validated as in the full path. Anything else — other member order,
 * whitespace, escapes, a body whose brackets do not close at the payload's end (truncated) — goes
 * through `decodeJsonEnvelope`, so the verdicts are the same. The body of a fast-path payload is
 * only checked for balanced brackets, not parsed. Never throws.
 */
export function decodeJsonMeta(payload: Uint8Array): JsonMetaResult {
  const fast = readOwnLayout(payload)
  if (fast) return fast
  const full = decodeJsonEnvelope(payload)
  return full.ok ? { ok: true, meta: full.meta } : full
}

function readOwnLayout(p: Uint8Array): JsonMetaResult | undefined {
  const n = p.length
  if (n < 64 || !startsWith(p, 0, PREFIX)) return undefined
  let i = PREFIX.length
  const runStart = i
  while (i < n && p[i] !== QUOTE) {
    const b = p[i]!
    if (b === BACKSLASH || b >= 0x80 || b < 0x20) return undefined // escapes or UTF-8: full parse
    i++
  }
  const runEnd = i
  if (!startsWith(p, i, AFTER_RUN)) return undefined
  i += AFTER_RUN.length
  const dev = digitsAt(p, i)
  if (dev < 0) return undefined
  i = digitsEnd
  if (!startsWith(p, i, SEQ)) return undefined
  const seq = digitsAt(p, i + SEQ.length)
  if (seq < 0) return undefined
  i = digitsEnd
  if (!startsWith(p, i, T)) return undefined
  const t = digitsAt(p, i + T.length)
  if (t < 0) return undefined
  i = digitsEnd
  if (!startsWith(p, i, TI)) return undefined
  const ti = digitsAt(p, i + TI.length)
  if (ti < 0) return undefined
  i = digitsEnd
  const closed = p[i] === CLOSE_BRACE
  const warmup = !closed && startsWith(p, i, WARMUP_END)
  // More members (hops from bridges, tp): parsed on their own, validated like the full path.
  let rest: Record<string, unknown> | undefined
  let metaEnd = closed ? i : i + WARMUP_END.length - 1
  if (!closed && !warmup) {
    if (p[i] !== COMMA) return undefined
    const end = endOfObject(p, i)
    if (end === undefined) return undefined
    try {
      const buf = Buffer.from(p.buffer, p.byteOffset, p.byteLength)
      rest = JSON.parse(`{${buf.toString('utf8', i + 1, end)}}`) as Record<string, unknown>
    } catch {
      return undefined
    }
    metaEnd = end
  }
  // The body is not parsed, but its brackets must balance up to the payload's last `}`: a payload
  // cut short anywhere goes to the full parse (and comes out `not-json`).
  if (endOfObject(p, metaEnd + 1) !== lastNonSpace(p)) return undefined
  if (!isPlausibleUs(t) || !isPlausibleUs(ti)) return { ok: false, reason: 'bad-metadata' }
  const meta: EnvelopeMeta = { run: runAt(p, runStart, runEnd), dev, seq, t, ti }
  if (warmup) meta.warmup = true
  if (!rest) return { ok: true, meta }
  const full = withOptionalMembers(meta, rest)
  return full ? { ok: true, meta: full } : { ok: false, reason: 'bad-metadata' }
}

/**
 * Index of the `}` that closes the object `at` is inside of, skipping strings and nested values;
 * undefined when the payload ends first.
 */
function endOfObject(p: Uint8Array, at: number): number | undefined {
  let depth = 0
  for (let j = at; j < p.length; j++) {
    const b = p[j]!
    if (b === QUOTE) {
      for (j++; j < p.length && p[j] !== QUOTE; j++) if (p[j] === BACKSLASH) j++
    } else if (b === OPEN_BRACE || b === OPEN_BRACKET) depth++
    else if (b === CLOSE_BRACKET) depth--
    else if (b === CLOSE_BRACE) {
      if (depth === 0) return j
      depth--
    }
  }
  return undefined
}

function startsWith(p: Uint8Array, at: number, bytes: Uint8Array): boolean {
  if (at + bytes.length > p.length) return false
  for (let k = 0; k < bytes.length; k++) if (p[at + k] !== bytes[k]) return false
  return true
}

/** End of the integer `digitsAt` read last (a module variable: no object per field per message). */
let digitsEnd = 0

/**
 * A JSON non-negative integer (no leading zeros, at most 16 digits) starting at `at`, its end in
 * `digitsEnd`; -1 when there is none.
 */
function digitsAt(p: Uint8Array, at: number): number {
  let i = at
  let value = 0
  while (i < p.length) {
    const d = p[i]! - 0x30
    if (d < 0 || d > 9) break
    value = value * 10 + d
    i++
  }
  const len = i - at
  if (len === 0 || len > MAX_DIGITS || (len > 1 && p[at] === 0x30)) return -1
  digitsEnd = i
  return value
}

/** The run id of the last payload read, and its bytes: a consumer sees one run in almost every message. */
let lastRun = ''
let lastRunBytes: Uint8Array = new Uint8Array(0)

/** The run id between `from` and `to` (latin1, no escapes), without a new string when it repeats. */
function runAt(p: Uint8Array, from: number, to: number): string {
  const n = to - from
  if (n === lastRunBytes.length) {
    let same = true
    for (let k = 0; k < n; k++)
      if (p[from + k] !== lastRunBytes[k]) {
        same = false
        break
      }
    if (same) return lastRun
  }
  lastRunBytes = p.slice(from, to)
  lastRun = Buffer.from(p.buffer, p.byteOffset + from, n).toString('latin1')
  return lastRun
}

/** Index of the last byte that is not JSON whitespace. */
function lastNonSpace(p: Uint8Array): number | undefined {
  for (let i = p.length - 1; i >= 0; i--) {
    const b = p[i]!
    if (b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09) return i
  }
  return undefined
}

/** Writes `meta` back into a parsed document (used by bridges after appending a hop). */
export function setJsonMeta(doc: Record<string, unknown>, meta: EnvelopeMeta): void {
  const m: Record<string, unknown> = { run: meta.run, dev: meta.dev, seq: meta.seq, t: meta.t, ti: meta.ti }
  if (meta.warmup) m.w = 1
  if (meta.hops && meta.hops.length > 0) m.hops = meta.hops
  if (meta.tp) m.tp = meta.tp
  doc[JSON_META_KEY] = m
}
