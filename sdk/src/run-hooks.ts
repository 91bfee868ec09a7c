/**
 * The run's observability hooks: what the engine (producer, bridge, consumer, recorder) tells an
 * observer such as @iotload/otel. The engine implements the calling side, the observer the hooks;
 * both import these types from here, so neither copies the other's.
 *
 * Each argument type is the least the engine guarantees: the engine passes richer objects (its own
 * per-second report, its summary), and an observer reads only what is declared here.
 */

/** A hop the message passed (a bridge's receive and send stamps), µs since the epoch. */
export interface HopInfo {
  in: number
  out: number
}

/** The decoded iotload metadata of a received message. */
export interface ReceivedMeta {
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

/** Before each publish: `tUs` is the send stamp, `tiUs` the intended time. */
export interface SendInfo {
  dev: number
  seq: number
  tUs: number
  tiUs: number
  topic: string
}

/** After a publish settled; `ok` is false when it failed. */
export interface SettleInfo {
  dev: number
  seq: number
  tUs: number
  ackUs: number
  ok: boolean
}

/** A valid message of this run, as the consumer received it. */
export interface ReceiveInfo {
  meta: ReceivedMeta
  recvUs: number
  topic: string
  headers: Record<string, string> | undefined
}

/** What iotload's bridge tells about one forwarded message. */
export interface ForwardInfo {
  inTopic: string
  outTopic: string
  headers: Record<string, string> | undefined
  hopInUs: number
  hopOutUs: number
  dev: number
  seq: number
}

/** The per-second counters every report carries. */
export interface SecondCounters {
  sent: number
  received: number
  duplicates: number
  invalid: number
  publishErrors: number
  reconnects: number
  disconnects: number
}

/** One completed second of a run. */
export interface SecondInfo {
  /** Seconds since the schedule started (0-based). */
  second: number
  /** The second lies (partly) inside the warm-up. */
  warmup: boolean
  counters: SecondCounters
  /** Sequence gaps outstanding at the end of the second. */
  gaps: number
}

/** The end of a run: its final status and, per stream, what was lost. */
export interface RunEndInfo {
  run: { status: string }
  streams: Record<string, { lost?: number } | undefined>
}

/**
 * Observability hooks of a run. Each must be cheap on the hot path (sample inside) and must never
 * throw; the engine guards every call all the same.
 */
export interface RunTelemetry {
  /** Before each publish; may return headers to attach (W3C `traceparent` for a sampled message). */
  onSend?(info: SendInfo): Record<string, string> | undefined
  /** After a publish settled. */
  onPublishSettled?(info: SettleInfo): void
  /** For each valid own-run message received by the consumer. */
  onReceive?(info: ReceiveInfo): void
  /** For each message iotload's bridge forwards; may return the headers to publish (bridge span context). */
  onBridgeForward?(info: ForwardInfo): Record<string, string> | undefined
  /** Connection status changes (disconnected, reconnected, …) of any role. */
  onConnectionStatus?(status: string): void
  /** Each completed second. */
  onSecond?(report: SecondInfo): void
  /** Once, with the final summary. */
  onRunEnd?(summary: RunEndInfo): void
  /**
   * How a run sharded across worker threads (`run.workers` > 1) keeps the per-message hooks.
   * Without it, a telemetry with per-message hooks keeps the run on one thread.
   */
  sharding?: ShardedTelemetry
}

/**
 * Per-message hooks that each worker thread of a sharded run carries itself. Functions cannot
 * cross threads, so each worker imports `module` and calls its
 * `workerTelemetry(options, slot: WorkerSlot): WorkerTelemetry`; once a second (and at the end) it
 * posts what `take()` returns, and the main thread hands that to `absorb`. The module is the
 * telemetry package's own file, never anything named by a scenario or request.
 */
export interface ShardedTelemetry {
  /** URL of a module that exports `workerTelemetry`. */
  module: string
  /** Structured-cloneable options for `workerTelemetry` (labels, sampling). */
  options?: unknown
  /** Adds one worker's `take()` to the run's figures, on the main thread. */
  absorb(state: unknown): void
}

/** Which part of a sharded run a worker plays, for `workerTelemetry`. */
export interface WorkerSlot {
  role: 'producer' | 'consumer'
  /** Producer workers of the run: a per-second sampling budget is shared among them. */
  producers: number
}

/** The hooks a worker thread runs per message, and what they recorded for the main thread. */
export interface WorkerTelemetry
  extends Pick<RunTelemetry, 'onSend' | 'onPublishSettled' | 'onReceive' | 'onBridgeForward'> {
  /** What was recorded since the last call, as structured-cloneable data. */
  take(): unknown
  /** Before the worker ends: export what is pending (spans). Never rejects. */
  close?(): Promise<void>
}
