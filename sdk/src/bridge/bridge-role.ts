import type { QoS } from '../messages.ts'
import type { BrokerConnection, PluginLogger } from '../plugin.ts'
import type { ForwardInfo } from '../run-hooks.ts'
import type { BridgeConfig } from './bridge-config.ts'

/** What a running bridge counted. */
export interface BridgeStats {
  /** Host id stamped into hop records. */
  host: string
  received: number
  forwarded: number
  /** Messages without iotload metadata, forwarded unchanged so the consumer counts them invalid. */
  passedThroughInvalid: number
  /** Topics that did not match `from` (not forwarded). */
  unmatched: number
  /** The transform returned null: deliberately not forwarded. */
  dropped: number
  /** The transform threw or returned something that is not an object: not forwarded. */
  transformErrors: number
  /** Arrivals discarded because `concurrency` was exhausted and `maxQueued` arrivals already waited. */
  overflowDropped: number
  publishErrors: number
  /** Messages between receipt and publish settlement. */
  inFlight: number
  inFlightPeak: number
  /** Arrivals waiting for a free slot. */
  queued: number
  queuedPeak: number
}

/** Options for `startBridge`. */
export interface BridgeOptions {
  config: BridgeConfig
  /** Connection to consume from. */
  input: BrokerConnection
  /** Connection to publish to (may be the same broker or another). */
  output: BrokerConnection
  /** `from` as a filter in the input plugin's syntax. */
  filter: string
  /** @default 0 */
  qos?: QoS
  logger: PluginLogger
  /** Name stamped into hop records. @default 'bridge' */
  name?: string
  /**
   * Tracing hook (`RunTelemetry.onBridgeForward`): called for each forwarded message with iotload
   * metadata; returns the headers to publish (e.g. a new `traceparent` for the bridge span). Must not throw.
   */
  onForward?: (info: ForwardInfo) => Record<string, string> | undefined
}

/** A running bridge. */
export interface RunningBridge {
  stats: BridgeStats
  /** Unsubscribes, then waits (5 s at most) for messages in flight to settle. */
  stop(): Promise<void>
}

/**
 * The bridge role as the daemon loads it (`@iotload/ipaas-bridge` implements it): the daemon
 * imports the package lazily, when a scenario has a `bridge:` section, and calls `startBridge`.
 */
export interface BridgeRoleModule {
  startBridge(options: BridgeOptions): Promise<RunningBridge>
}
