import {
  type BridgeOptions,
  type BridgeStats,
  type BrokerConnection,
  decodeBinaryEnvelope,
  decodeJsonEnvelope,
  encodeBinaryEnvelope,
  type EnvelopeMeta,
  type InboundMessage,
  isBinaryEnvelope,
  JSON_META_KEY,
  nowUs,
  type OutboundMessage,
  type QoS,
  setJsonMeta,
  TRACEPARENT_HEADER,
} from '@iotload/sdk'
import type { DelayTimer } from './delay.ts'
import type { CompiledTransform, JsonBody } from './transform.ts'

/** What the forwarder needs, compiled once by `startBridge`. */
export interface ForwarderOptions {
  output: BrokerConnection
  qos: QoS
  /** Name stamped into hop records. */
  by: string
  /** Host id stamped into JSON hop records. */
  host: string
  stats: BridgeStats
  transform: CompiledTransform
  /** Samples the simulated processing time (µs), or undefined for none. */
  sampleDelay: (() => number) | undefined
  timer: DelayTimer
  onForward: BridgeOptions['onForward']
  /** Frees the message's slot once it settled, whatever the outcome. */
  release: () => void
}

/**
 * Builds the per-message work of the bridge: decode the envelope, transform the JSON body (the
 * `iotload` member is taken out first and put back after, so no transform can lose it), wait the
 * simulated processing time, stamp the hop and republish. Every path ends in `release()` exactly once.
 */
export function createForwarder(
  o: ForwarderOptions,
): (msg: InboundMessage, hopIn: number, target: string) => void {
  const { stats, release } = o

  /** `key` is the device id, so keyed brokers (Kafka, Pulsar Key_Shared) keep each device's order downstream too. */
  const publish = (
    topic: string,
    payload: Uint8Array,
    headers: Record<string, string> | undefined,
    key?: number,
  ) => {
    const msg: OutboundMessage = { payload, qos: o.qos }
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
    if (!o.sampleDelay) return fn()
    o.timer.after(o.sampleDelay(), fn)
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
    const hops = [...(m.hops ?? []), { by: o.by, in: hopIn, out: hopOut }]
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
    const hop = { by: o.by, in: hopIn, out: nowUs(), host: o.host }
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

  return (msg, hopIn, target) => {
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
    const transform = o.transform
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
}
