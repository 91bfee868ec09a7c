import {
  compileJsonPath,
  type DecodedMeta,
  type InvalidReason,
  isPlausibleUs,
  metaFromObject,
  runTag,
} from '@iotload/sdk'
import { parseMsgId } from '../scenario/msgid.ts'
import { type ExternalMetadataConfig, legStamps } from '../scenario/external-metadata.ts'
import { asIndex, decodeTimestamp } from './external-timestamp.ts'

/**
 * The stamps an external flow wrote for the per-leg split (µs since the epoch), each present only
 * when the message carried it in the configured format.
 */
export interface ExternalLegStamps {
  inUs: number | undefined
  outUs: number | undefined
  /** The coarser of the two stamps' resolutions. */
  resolutionUs: number
}

/** One message from an external flow, decoded as `consumer.external` says. */
export type ExternalArrival =
  /** iotload's envelope, passed through at `envelopePath`. */
  | { kind: 'envelope'; meta: DecodedMeta; legs: ExternalLegStamps | undefined }
  /** The `{msgid}` at `correlationPath`: run, device and seq; the send time is in the producer's table. */
  | { kind: 'correlation'; run: string; dev: number; seq: number; legs: ExternalLegStamps | undefined }
  /** A copied timestamp at `timestampPath`, maybe with device and seq. */
  | {
      kind: 'timestamp'
      tUs: number
      resolutionUs: number
      dev: number | undefined
      seq: number | undefined
      legs: ExternalLegStamps | undefined
    }
  | { kind: 'invalid'; reason: InvalidReason }

/** Decodes the payload bytes of one foreign message. Never throws. */
export type ExternalDecoder = (payload: Uint8Array) => ExternalArrival

const NO_METADATA: ExternalArrival = { kind: 'invalid', reason: 'no-metadata' }
const BAD_METADATA: ExternalArrival = { kind: 'invalid', reason: 'bad-metadata' }
const NOT_JSON: ExternalArrival = { kind: 'invalid', reason: 'not-json' }

/** Parses a payload as JSON; undefined when it is not. */
export function parseJsonPayload(payload: Uint8Array): { ok: true; doc: unknown } | { ok: false } {
  try {
    return {
      ok: true,
      doc: JSON.parse(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8')),
    }
  } catch {
    return { ok: false }
  }
}

function compileLegs(config: ExternalMetadataConfig): ((doc: unknown) => ExternalLegStamps) | undefined {
  const stamps = legStamps(config)
  const read = (s: (typeof stamps)['ipaas-in']) => {
    if (!s) return undefined
    const get = compileJsonPath(s.path)
    return (doc: unknown) => {
      const t = decodeTimestamp(get(doc), s.format)
      return t && isPlausibleUs(t.us) ? t : undefined
    }
  }
  const readIn = read(stamps['ipaas-in'])
  const readOut = read(stamps['ipaas-out'])
  if (!readIn && !readOut) return undefined
  return (doc) => {
    const i = readIn?.(doc)
    const o = readOut?.(doc)
    return {
      inUs: i?.us,
      outUs: o?.us,
      resolutionUs: Math.max(i?.resolutionUs ?? 1, o?.resolutionUs ?? 1),
    }
  }
}

let lastRun = ''
let lastTag = runTag('')

/** runTag with a one-entry cache: almost every message names the same run. */
function tagOf(run: string): number {
  if (run !== lastRun) {
    lastRun = run
    lastTag = runTag(run)
  }
  return lastTag
}

/**
 * Compiles the decoder for foreign messages. A missing path is `no-metadata`, an unusable value
 * `bad-metadata`; both are counted invalid, never a latency. Leg stamps are optional per message.
 */
export function compileExternalDecoder(config: ExternalMetadataConfig): ExternalDecoder {
  const legs = compileLegs(config)
  const inner = compileMode(config)
  return (payload) => {
    const parsed = parseJsonPayload(payload)
    if (!parsed.ok) return NOT_JSON
    return inner(parsed.doc, legs?.(parsed.doc))
  }
}

function compileMode(
  config: ExternalMetadataConfig,
): (doc: unknown, legs: ExternalLegStamps | undefined) => ExternalArrival {
  if (config.envelopePath !== undefined) {
    const get = compileJsonPath(config.envelopePath)
    return (doc, legs) => {
      const raw = get(doc)
      if (raw === undefined || raw === null) return NO_METADATA
      const m = metaFromObject(raw)
      if (!m) return BAD_METADATA
      return { kind: 'envelope', meta: Object.assign(m, { tag: tagOf(m.run) }), legs }
    }
  }
  if (config.correlationPath !== undefined) {
    const get = compileJsonPath(config.correlationPath)
    return (doc, legs) => {
      const raw = get(doc)
      if (raw === undefined || raw === null) return NO_METADATA
      const id = parseMsgId(raw)
      return id ? { kind: 'correlation', ...id, legs } : BAD_METADATA
    }
  }
  const ts = compileJsonPath(config.timestampPath!)
  const format = config.format!
  const dev = config.devicePath ? compileJsonPath(config.devicePath) : undefined
  const seq = config.seqPath ? compileJsonPath(config.seqPath) : undefined
  return (doc, legs) => {
    const raw = ts(doc)
    if (raw === undefined || raw === null) return NO_METADATA
    const t = decodeTimestamp(raw, format)
    if (!t || !isPlausibleUs(t.us)) return BAD_METADATA
    let d: number | undefined
    let s: number | undefined
    if (dev) {
      d = asIndex(dev(doc))
      if (d === undefined) return BAD_METADATA
    }
    if (seq) {
      s = asIndex(seq(doc))
      if (s === undefined) return BAD_METADATA
    }
    return { kind: 'timestamp', tUs: t.us, resolutionUs: t.resolutionUs, dev: d, seq: s, legs }
  }
}
