import type { MsgHdrs } from '@nats-io/transport-node'

/** Builds NATS headers from a plain record; `factory` is the client's `headers()` (imported lazily). */
export function toNatsHeaders(record: Record<string, string>, factory: () => MsgHdrs): MsgHdrs {
  const h = factory()
  for (const key in record) h.set(key, record[key]!)
  return h
}

/** Flattens NATS headers to a record (the first value of a repeated key wins). */
export function fromNatsHeaders(h: MsgHdrs | undefined): Record<string, string> | undefined {
  if (h === undefined) return undefined
  const out: Record<string, string> = {}
  for (const key of h.keys()) out[key] = h.get(key)
  return out
}
