/**
 * Structural copies of the engine's `RunTelemetry` hook arguments (daemon/src/engine/telemetry-hooks.ts).
 * @iotload/otel cannot import the daemon (the daemon depends on it); the daemon's wiring checks
 * that `createRunTelemetry`'s result is assignable to `RunTelemetry`.
 */

/** Hop stamp of a bridge, µs since the epoch. */
export interface HopInfo {
  in: number
  out: number
}

/** The decoded iotload metadata the consumer hook receives. */
export interface MessageMeta {
  dev: number
  seq: number
  /** Origin (actual send) time, µs since the epoch. */
  t: number
  /** Intended send time, µs since the epoch. */
  ti: number
  warmup?: boolean
  hops?: readonly HopInfo[]
  /** W3C traceparent carried in the envelope, for protocols without headers. */
  tp?: string
}

export interface SendInfo {
  dev: number
  seq: number
  tUs: number
  tiUs: number
  topic: string
}

export interface SettleInfo {
  dev: number
  seq: number
  tUs: number
  ackUs: number
  ok: boolean
}

export interface ReceiveInfo {
  meta: MessageMeta
  recvUs: number
  topic: string
  headers: Record<string, string> | undefined
}

export interface BridgeForwardInfo {
  inTopic: string
  outTopic: string
  headers: Record<string, string> | undefined
  hopInUs: number
  hopOutUs: number
  dev: number
  seq: number
}

/** The per-second counters the engine reports (subset used here). */
export interface SecondCounters {
  sent: number
  received: number
  duplicates: number
  invalid: number
  publishErrors: number
  reconnects: number
  disconnects: number
}

export interface SecondInfo {
  second: number
  warmup: boolean
  counters: SecondCounters
  /** Sequence gaps outstanding at the end of the second. */
  gaps: number
}

export interface RunEndInfo {
  run: { status: string }
  streams: Record<string, { lost?: number } | undefined>
}

/** What `createRunTelemetry` returns: the engine's `RunTelemetry` shape. */
export interface RunTelemetryHooks {
  onSend?(info: SendInfo): Record<string, string> | undefined
  onPublishSettled?(info: SettleInfo): void
  onReceive?(info: ReceiveInfo): void
  onBridgeForward?(info: BridgeForwardInfo): Record<string, string> | undefined
  onConnectionStatus?(status: string): void
  onSecond?(report: SecondInfo): void
  onRunEnd?(summary: RunEndInfo): void
}
