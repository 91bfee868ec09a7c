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
  let m = `{"${JSON_META_KEY}":{"run":${JSON.stringify(meta.run)},"dev":${meta.dev},"seq":${meta.seq},"t":${meta.t},"ti":${meta.ti}`
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
  const hops = parseHops(o.hops)
  if (hops === null) return null
  const meta: EnvelopeMeta = { run: o.run, dev: o.dev, seq: o.seq, t: o.t, ti: o.ti }
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

/** Writes `meta` back into a parsed document (used by bridges after appending a hop). */
export function setJsonMeta(doc: Record<string, unknown>, meta: EnvelopeMeta): void {
  const m: Record<string, unknown> = { run: meta.run, dev: meta.dev, seq: meta.seq, t: meta.t, ti: meta.ti }
  if (meta.warmup) m.w = 1
  if (meta.hops && meta.hops.length > 0) m.hops = meta.hops
  if (meta.tp) m.tp = meta.tp
  doc[JSON_META_KEY] = m
}
