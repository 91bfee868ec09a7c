import { JSON_META_KEY, metaFromObject } from '@iotload/sdk'
import { parseJsonPayload } from './external-decode.ts'

/** Messages without metadata that are searched for a nested envelope (the search parses each). */
const PROBED = 20
const MAX_DEPTH = 6
const MAX_NODES = 2000

function step(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`
  return /^[A-Za-z_$][\w$-]*$/.test(key) ? `${path}.${key}` : `${path}['${key}']`
}

/**
 * The JSON path of an iotload envelope nested anywhere in `doc` below the top level (breadth
 * first, bounded in depth and size), e.g. `$.original.iotload`; undefined when there is none.
 */
export function findNestedEnvelope(doc: unknown): string | undefined {
  const queue: Array<{ v: unknown; path: string; depth: number }> = [{ v: doc, path: '$', depth: 0 }]
  for (let n = 0; n < queue.length && n < MAX_NODES; n++) {
    const { v, path, depth } = queue[n]!
    if (v === null || typeof v !== 'object' || depth >= MAX_DEPTH) continue
    const entries: Array<[string | number, unknown]> = Array.isArray(v)
      ? v.map((x, i) => [i, x])
      : Object.entries(v as Record<string, unknown>)
    for (const [key, child] of entries) {
      if (key === JSON_META_KEY && depth > 0 && metaFromObject(child)) return step(path, key)
      queue.push({ v: child, path: step(path, key), depth: depth + 1 })
    }
  }
  return undefined
}

/**
 * Looks into the first messages that had no metadata where it was expected, for iotload's envelope
 * passed through somewhere else: the summary then says which `consumer.external.envelopePath` to set.
 */
export class EnvelopeProbe {
  probed = 0
  found = 0
  path: string | undefined

  offer(payload: Uint8Array): void {
    if (this.probed >= PROBED) return
    this.probed++
    const parsed = parseJsonPayload(payload)
    const path = parsed.ok ? findNestedEnvelope(parsed.doc) : undefined
    if (path === undefined) return
    this.found++
    this.path ??= path
  }
}
