import { decodeBinaryEnvelope, isBinaryEnvelope } from './binary-envelope.ts'
import { decodeJsonMeta } from './json-envelope.ts'
import { type EnvelopeMeta, type InvalidReason, runTag } from './metadata.ts'

/** Decoded metadata in either encoding; `run` is absent for binary, `tag` always present. */
export interface DecodedMeta extends Omit<EnvelopeMeta, 'run'> {
  run: string | undefined
  tag: number
}

/** Outcome of `decodeEnvelope`. */
export type DecodeResult = { ok: true; meta: DecodedMeta } | { ok: false; reason: InvalidReason }

/**
 * Decodes either envelope, detected by the binary magic. Never throws: anything unusable is an
 * `invalid` reason, never a zero latency.
 */
export function decodeEnvelope(payload: Uint8Array): DecodeResult {
  if (isBinaryEnvelope(payload)) {
    const r = decodeBinaryEnvelope(payload)
    if (!r.ok) return r
    const { runTag: tag, ...rest } = r.meta
    return { ok: true, meta: { ...rest, run: undefined, tag } }
  }
  const r = decodeJsonMeta(payload)
  if (!r.ok) return r
  // The metadata object is fresh per message: tag it in place rather than copying it.
  const meta = r.meta as EnvelopeMeta & { tag?: number }
  meta.tag = tagOf(meta.run)
  return { ok: true, meta: meta as DecodedMeta }
}

let lastRun = ''
let lastTag = runTag('')

/** runTag with a one-entry cache: a consumer sees the same run id in almost every message. */
function tagOf(run: string): number {
  if (run !== lastRun) {
    lastRun = run
    lastTag = runTag(run)
  }
  return lastTag
}
