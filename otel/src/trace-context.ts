import { type Context, ROOT_CONTEXT, type SpanContext, TraceFlags, trace } from '@opentelemetry/api'

/** Header (and envelope field) name of the W3C trace context. */
export const TRACEPARENT = 'traceparent'

const TP = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/

/** Formats a W3C `traceparent` for a sampled span context. */
export function formatTraceparent(sc: SpanContext): string {
  return `00-${sc.traceId}-${sc.spanId}-0${sc.traceFlags & TraceFlags.SAMPLED}`
}

/** Parses a W3C `traceparent`; undefined when malformed or all-zero. */
export function parseTraceparent(tp: string): SpanContext | undefined {
  const m = TP.exec(tp.trim())
  if (!m || /^0+$/.test(m[1]!) || /^0+$/.test(m[2]!)) return undefined
  return { traceId: m[1]!, spanId: m[2]!, traceFlags: Number.parseInt(m[3]!, 16), isRemote: true }
}

/** A context whose parent is the remote span of `tp`. */
export function contextFromTraceparent(tp: string): Context | undefined {
  const sc = parseTraceparent(tp)
  return sc ? trace.setSpanContext(ROOT_CONTEXT, sc) : undefined
}

/** µs since the epoch → OTel HrTime [s, ns], exactly (no float ms round trip). */
export function usToHrTime(us: number): [number, number] {
  const s = Math.floor(us / 1e6)
  return [s, Math.round((us - s * 1e6) * 1000)]
}

/** Wall clock in µs, the same clock the engine stamps with. */
export function nowUs(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000)
}
