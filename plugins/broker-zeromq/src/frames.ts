import type { InboundMessage } from '@iotload/sdk'

/**
 * Wire format of one iotload message on a ZeroMQ socket, three frames:
 * 1. topic (UTF-8), first so SUB prefix subscriptions work on it;
 * 2. headers as a JSON object of strings, or an empty frame when there are none;
 * 3. payload bytes, untouched.
 */

const EMPTY = new Uint8Array(0)

/** Encodes the header frame; an empty frame for no headers so the hot path skips JSON. */
export function encodeHeaders(headers: Record<string, string> | undefined): Uint8Array | string {
  if (headers === undefined) return EMPTY
  for (const _ in headers) return JSON.stringify(headers)
  return EMPTY
}

/**
 * Decodes the header frame. Malformed or non-string-valued JSON yields `undefined` rather than
 * throwing: a foreign sender must not be able to stop the receive loop.
 */
export function decodeHeaders(frame: Uint8Array | undefined): Record<string, string> | undefined {
  if (frame === undefined || frame.length === 0) return undefined
  let parsed: unknown
  try {
    parsed = JSON.parse(Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength).toString('utf8'))
  } catch {
    return undefined
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined
  for (const v of Object.values(parsed)) if (typeof v !== 'string') return undefined
  return parsed as Record<string, string>
}

/** Topic of a received message: the first frame, or '' for a foreign single-frame sender. */
export function topicOf(frames: Buffer[]): string {
  return frames.length >= 2 ? (frames[0] as Buffer).toString('utf8') : ''
}

/**
 * Builds the delivered message from received frames, tolerant of foreign senders:
 * 3+ frames = topic/headers/payload, 2 = topic/payload, 1 = payload only.
 */
export function toInbound(frames: Buffer[], topic: string): InboundMessage {
  const n = frames.length
  if (n >= 3) {
    const msg: InboundMessage = { topic, payload: frames[2] as Buffer }
    const headers = decodeHeaders(frames[1])
    if (headers) msg.headers = headers
    return msg
  }
  return { topic, payload: frames[n - 1] ?? Buffer.alloc(0) }
}
