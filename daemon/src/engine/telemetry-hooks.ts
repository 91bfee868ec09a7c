import type { ForwardInfo } from '@iotload/ipaas-bridge'
import type { DecodedMeta } from '@iotload/sdk'
import type { SecondReport } from './recorder.ts'
import type { RunSummary } from './summary.ts'

/**
 * Observability hooks of a run, implemented by @iotload/otel. Each must be cheap on the hot path
 * (sample inside) and must never throw; the engine also guards every call.
 */
export interface RunTelemetry {
  /**
   * Before each publish. May return headers to attach (W3C `traceparent` for a sampled message),
   * or undefined. `tUs` is the send stamp, `tiUs` the intended time.
   */
  onSend?(info: {
    dev: number
    seq: number
    tUs: number
    tiUs: number
    topic: string
  }): Record<string, string> | undefined
  /** After a publish settled (`ok` false when it failed). */
  onPublishSettled?(info: { dev: number; seq: number; tUs: number; ackUs: number; ok: boolean }): void
  /** For each valid own-run message received by the consumer. */
  onReceive?(info: {
    meta: DecodedMeta
    recvUs: number
    topic: string
    headers: Record<string, string> | undefined
  }): void
  /** For each message iotload's bridge forwards; may return the headers to publish (bridge span context). */
  onBridgeForward?(info: ForwardInfo): Record<string, string> | undefined
  /** Connection status changes (disconnected, reconnected, …) of any role. */
  onConnectionStatus?(status: string): void
  /** Each completed second. */
  onSecond?(report: SecondReport): void
  /** Once, with the final summary. */
  onRunEnd?(summary: RunSummary): void
}

/** Wraps a hook so a telemetry failure can never break a run. */
export function guard<A extends unknown[], R>(
  fn: ((...args: A) => R) | undefined,
): ((...args: A) => R | undefined) | undefined {
  if (!fn) return undefined
  return (...args: A) => {
    try {
      return fn(...args)
    } catch {
      return undefined
    }
  }
}
