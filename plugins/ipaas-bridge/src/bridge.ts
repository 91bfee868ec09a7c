import { hostname } from 'node:os'
import {
  type BrokerConnection,
  decodeBinaryEnvelope,
  decodeJsonEnvelope,
  encodeBinaryEnvelope,
  type EnvelopeMeta,
  type InboundMessage,
  type OutboundMessage,
  isBinaryEnvelope,
  JSON_META_KEY,
  nowUs,
  type PluginLogger,
  setJsonMeta,
  type Subscription,
  TRACEPARENT_HEADER,
} from '@iotload/sdk'
import type { BridgeConfig } from './config.ts'
import { compileDelay, DelayTimer } from './delay.ts'
import { compileTopicMapper } from './topic-mapper.ts'
import { type CompiledTransform, compileTransform, type JsonBody } from './transform.ts'

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

/** A subscription that can stop delivery for a while (optional; the sdk contract does not require it). */
type MaybePausable = Subscription & { pause?: () => void; resume?: () => void }

interface Pending {
  msg: InboundMessage
  hopIn: number
  target: string
}

/**
 * iotload's reference bridge: consume, transform while keeping the metadata, optionally wait a
 * simulated processing time, stamp hop in/out times, republish. It stands in for an iPaaS so the
 * latency of that leg can be measured on its own.
 *
 * At most `concurrency` messages are between receipt and publish settlement; later arrivals wait
 * in a queue bounded by `maxQueued` (and the subscription is paused if the plugin supports it);
 * beyond the bound they are dropped and counted, never buffered without limit.
 */
export async function startBridge(o: BridgeOptions): Promise<RunningBridge> {
  const config = o.config
  const mapTopic = compileTopicMapper(config.from, config.to)
  const transform: CompiledTransform = await compileTransform(config.transform)
  const sampleDelay = compileDelay(config.delay)
  const timer = new DelayTimer()
  const by = o.name ?? 'bridge'
  const host = config.host ?? hostname()
  const qos = o.qos ?? 0
  const stats: BridgeStats = {
    host,
    received: 0,
    forwarded: 0,
    passedThroughInvalid: 0,
    unmatched: 0,
    dropped: 0,
    transformErrors: 0,
    overflowDropped: 0,
    publishErrors: 0,
    inFlight: 0,
    inFlightPeak: 0,
    queued: 0,
    queuedPeak: 0,
  }
  // FIFO of waiting arrivals: an array with a moving head, compacted now and then.
  let queue: Pending[] = []
  let head = 0
  let subscription: MaybePausable | undefined
  let paused = false

  const release = () => {
    stats.inFlight--
    while (stats.inFlight < config.concurrency && head < queue.length) {
      const p = queue[head]!
      queue[head++] = undefined as unknown as Pending
      stats.queued--
      start(p.msg, p.hopIn, p.target)
    }
    if (head > 1024 && head * 2 > queue.length) {
      queue = queue.slice(head)
      head = 0
    }
    if (paused && stats.queued === 0) {
      paused = false
      subscription?.resume?.()
    }
  }

  /** `key` is the device id, so keyed brokers (Kafka, Pulsar Key_Shared) keep each device's order downstream too. */
  const publish = (
    topic: string,
    payload: Uint8Array,
    headers: Record<string, string> | undefined,
    key?: number,
  ) => {
    const msg: OutboundMessage = { payload, qos }
    if (headers) msg.headers = headers
    if (key !== undefined) msg.key = String(key)
    o.output.publish(topic, msg).then(
      () => {
        stats.forwarded++
        release()
      },
      () => {
        stats.publishErrors++
        release()
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
    envelopeTp?: string,
  ): Record<string, string> | undefined => {
    if (!o.onForward) return msg.headers
    // A trace that came without headers (MQTT 3.1.1, an iPaaS that drops them) came in the envelope.
    const headers =
      envelopeTp && !msg.headers?.[TRACEPARENT_HEADER]
        ? { ...msg.headers, [TRACEPARENT_HEADER]: envelopeTp }
        : msg.headers
    try {
      return o.onForward({ inTopic: msg.topic, outTopic, headers, hopInUs, hopOutUs, dev, seq }) ?? headers
    } catch {
      return headers
    }
  }

  /** Runs `fn` after the simulated processing time (at once without one). */
  const afterDelay = (fn: () => void) => {
    if (!sampleDelay) return fn()
    timer.after(sampleDelay(), fn)
  }

  const sendBinary = (msg: InboundMessage, hopIn: number, target: string) => {
    const hopOut = nowUs()
    const decoded = decodeBinaryEnvelope(msg.payload)
    if (!decoded.ok) {
      stats.passedThroughInvalid++
      publish(target, msg.payload, msg.headers)
      return
    }
    const m = decoded.meta
    const headers = traced(msg, target, hopIn, hopOut, m.dev, m.seq, m.tp)
    // As in JSON mode, the bridge span's context goes on in the envelope too.
    const tp = headers?.[TRACEPARENT_HEADER]
    const hops = [...(m.hops ?? []), { by, in: hopIn, out: hopOut }]
    const out = encodeBinaryEnvelope(
      tp ? { ...m, hops, tp } : { ...m, hops },
      msg.payload.subarray(decoded.bodyOffset),
    )
    publish(target, out, headers, m.dev)
  }

  const sendJson = (
    msg: InboundMessage,
    hopIn: number,
    target: string,
    doc: JsonBody,
    meta: EnvelopeMeta,
  ) => {
    // The out stamp is taken after transform and simulated delay: the bridge leg covers both.
    const hop = { by, in: hopIn, out: nowUs(), host }
    meta.hops = meta.hops ? [...meta.hops, hop] : [hop]
    const headers = traced(msg, target, hopIn, hop.out, meta.dev, meta.seq, meta.tp)
    // The bridge span's context travels on in the envelope as well as in the headers.
    const tp = headers?.[TRACEPARENT_HEADER]
    if (tp) meta.tp = tp
    setJsonMeta(doc, meta)
    publish(target, Buffer.from(JSON.stringify(doc)), headers, meta.dev)
  }

  const transformed = (
    msg: InboundMessage,
    hopIn: number,
    target: string,
    meta: EnvelopeMeta,
    result: unknown,
  ) => {
    if (result === null) {
      stats.dropped++
      return release()
    }
    if (typeof result !== 'object' || result === undefined || Array.isArray(result)) {
      stats.transformErrors++
      return release()
    }
    afterDelay(() => sendJson(msg, hopIn, target, result as JsonBody, meta))
  }

  function start(msg: InboundMessage, hopIn: number, target: string): void {
    stats.inFlight++
    if (stats.inFlight > stats.inFlightPeak) stats.inFlightPeak = stats.inFlight
    if (isBinaryEnvelope(msg.payload)) {
      // Transforms work on JSON; a binary body is opaque, so it is only delayed and stamped.
      afterDelay(() => sendBinary(msg, hopIn, target))
      return
    }
    const decoded = decodeJsonEnvelope(msg.payload)
    if (!decoded.ok) {
      stats.passedThroughInvalid++
      publish(target, msg.payload, msg.headers)
      return
    }
    const { doc, meta } = decoded
    if (!transform) {
      afterDelay(() => sendJson(msg, hopIn, target, doc, meta))
      return
    }
    delete doc[JSON_META_KEY]
    let result: ReturnType<typeof transform>
    try {
      result = transform(doc, { topic: msg.topic, outTopic: target })
    } catch {
      stats.transformErrors++
      release()
      return
    }
    if (result instanceof Promise) {
      result.then(
        (r) => transformed(msg, hopIn, target, meta, r),
        () => {
          stats.transformErrors++
          release()
        },
      )
    } else transformed(msg, hopIn, target, meta, result)
  }

  const onMessage = (msg: InboundMessage) => {
    const hopIn = nowUs()
    stats.received++
    const target = mapTopic(msg.topic)
    if (target === undefined) {
      stats.unmatched++
      return
    }
    if (stats.inFlight < config.concurrency) return start(msg, hopIn, target)
    if (stats.queued >= config.maxQueued) {
      stats.overflowDropped++
      return
    }
    queue.push({ msg, hopIn, target })
    stats.queued++
    if (stats.queued > stats.queuedPeak) stats.queuedPeak = stats.queued
    if (!paused && subscription?.pause) {
      paused = true
      subscription.pause()
    }
  }

  subscription = await o.input.subscribe(o.filter, onMessage, { qos })
  return {
    stats,
    async stop() {
      await subscription?.unsubscribe()
      const until = Date.now() + 5000
      while ((stats.inFlight > 0 || stats.queued > 0) && Date.now() < until)
        await new Promise((r) => setTimeout(r, 10))
      timer.clear()
    },
  }
}
