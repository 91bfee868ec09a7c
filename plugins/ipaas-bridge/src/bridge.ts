import {
  appendBinaryHop,
  type BrokerConnection,
  decodeJsonEnvelope,
  type InboundMessage,
  isBinaryEnvelope,
  nowUs,
  type PluginLogger,
  setJsonMeta,
  type Subscription,
} from '@iotload/sdk'
import type { BridgeConfig } from './config.ts'
import { compileTopicMapper } from './topic-mapper.ts'

/** What a running bridge counted. */
export interface BridgeStats {
  received: number
  forwarded: number
  /** Messages without iotload metadata, forwarded unchanged so the consumer counts them invalid. */
  passedThroughInvalid: number
  /** Topics that did not match `from` (not forwarded). */
  unmatched: number
  publishErrors: number
  inFlight: number
  inFlightPeak: number
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
  qos?: 0 | 1 | 2
  logger: PluginLogger
  /** Name stamped into hop records. @default 'bridge' */
  name?: string
  /**
   * Tracing hook (see @iotload/otel): called for each forwarded message with iotload metadata;
   * returns the headers to publish (e.g. a new `traceparent` for the bridge span). Must not throw.
   */
  onForward?: (info: ForwardInfo) => Record<string, string> | undefined
}

/** What the tracing hook learns about one forwarded message. */
export interface ForwardInfo {
  inTopic: string
  outTopic: string
  headers: Record<string, string> | undefined
  hopInUs: number
  hopOutUs: number
  dev: number
  seq: number
}

/** A running bridge. */
export interface RunningBridge {
  stats: BridgeStats
  stop(): Promise<void>
}

/**
 * iotload's reference bridge: consume, keep the metadata, stamp hop in/out times, republish.
 * It stands in for an iPaaS so the latency of that leg can be measured on its own.
 */
export async function startBridge(o: BridgeOptions): Promise<RunningBridge> {
  const mapTopic = compileTopicMapper(o.config.from, o.config.to)
  const by = o.name ?? 'bridge'
  const qos = o.qos ?? 0
  const stats: BridgeStats = {
    received: 0,
    forwarded: 0,
    passedThroughInvalid: 0,
    unmatched: 0,
    publishErrors: 0,
    inFlight: 0,
    inFlightPeak: 0,
  }

  const forward = (topic: string, payload: Uint8Array, headers: Record<string, string> | undefined) => {
    stats.inFlight++
    if (stats.inFlight > stats.inFlightPeak) stats.inFlightPeak = stats.inFlight
    o.output.publish(topic, headers ? { payload, qos, headers } : { payload, qos }).then(
      () => {
        stats.inFlight--
        stats.forwarded++
      },
      () => {
        stats.inFlight--
        stats.publishErrors++
      },
    )
  }

  const traced = (
    msg: InboundMessage,
    outTopic: string,
    hopInUs: number,
    hopOutUs: number,
    dev: number,
    seq: number,
  ): Record<string, string> | undefined => {
    if (!o.onForward) return msg.headers
    try {
      return (
        o.onForward({ inTopic: msg.topic, outTopic, headers: msg.headers, hopInUs, hopOutUs, dev, seq }) ??
        msg.headers
      )
    } catch {
      return msg.headers
    }
  }

  const onMessage = (msg: InboundMessage) => {
    const hopIn = nowUs()
    stats.received++
    const target = mapTopic(msg.topic)
    if (target === undefined) {
      stats.unmatched++
      return
    }
    if (isBinaryEnvelope(msg.payload)) {
      const hopOut = nowUs()
      const out = appendBinaryHop(msg.payload, { by, in: hopIn, out: hopOut })
      if (!out) stats.passedThroughInvalid++
      forward(
        target,
        out ?? msg.payload,
        out ? traced(msg, target, hopIn, hopOut, out.readUInt32LE(12), out.readDoubleLE(16)) : msg.headers,
      )
      return
    }
    const decoded = decodeJsonEnvelope(msg.payload)
    if (!decoded.ok) {
      stats.passedThroughInvalid++
      forward(target, msg.payload, msg.headers)
      return
    }
    const meta = decoded.meta
    const hop = { by, in: hopIn, out: 0 }
    meta.hops = [...(meta.hops ?? []), hop]
    hop.out = nowUs()
    setJsonMeta(decoded.doc, meta)
    forward(
      target,
      Buffer.from(JSON.stringify(decoded.doc)),
      traced(msg, target, hopIn, hop.out, meta.dev, meta.seq),
    )
  }

  const subscription: Subscription = await o.input.subscribe(o.filter, onMessage, { qos })
  return {
    stats,
    async stop() {
      await subscription.unsubscribe()
      const until = Date.now() + 5000
      while (stats.inFlight > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 10))
    },
  }
}
