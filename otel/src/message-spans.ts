import { ROOT_CONTEXT, type Span, SpanKind, SpanStatusCode, type Tracer } from '@opentelemetry/api'
import type { BridgeForwardInfo, ReceiveInfo, SendInfo, SettleInfo } from './hooks.ts'
import { MessageSampler, type Sampling } from './sampling.ts'
import { contextFromTraceparent, formatTraceparent, nowUs, TRACEPARENT, usToHrTime } from './trace-context.ts'
import type { TraceRole } from './tracing.ts'

/**
 * Span names and attributes of one run. Span names use these templates and filters only, never
 * a per-device topic (that is the `messaging.destination.name` attribute), so a trace UI groups
 * one operation under one name however many devices there are.
 */
export interface MessageSpanLabels {
  run: string
  system: string
  producerDestination: string
  consumerDestination: string
  /** The bridge's inbound topic template (`bridge.from`). @default producerDestination */
  bridgeSource?: string
}

/** Publish spans waiting for their ack; beyond this many, the oldest ends unacknowledged. */
const MAX_PENDING = 1024

/**
 * Per-message spans: `send` (producer, starts at the message's origin timestamp, ends at the
 * ack), `process` (bridge, hop in → hop out) and `receive` (consumer), each from its role's
 * tracer, one trace per sampled
 * message, linked by the W3C `traceparent` the message carries. Unsampled messages cost one
 * comparison in `onSend` and one header lookup downstream.
 */
export class MessageSpans {
  private readonly sampler: MessageSampler
  private readonly pending = new Map<number, Span>()

  private readonly producer: Tracer
  private readonly bridge: Tracer
  private readonly consumer: Tracer

  /** `tracers` gives each role its tracer (its own service name); one tracer serves all three. */
  constructor(
    tracers: Tracer | ((role: TraceRole) => Tracer),
    private readonly labels: MessageSpanLabels,
    sampling: Sampling,
  ) {
    const of = typeof tracers === 'function' ? tracers : () => tracers
    this.producer = of('producer')
    this.bridge = of('bridge')
    this.consumer = of('consumer')
    this.sampler = new MessageSampler(sampling)
  }

  /** Starts the send span of a sampled message; returns the headers to publish with it. */
  onSend(info: SendInfo): Record<string, string> | undefined {
    if (!this.sampler.sample(info.tUs)) return undefined
    const l = this.labels
    const span = this.producer.startSpan(
      `send ${l.producerDestination}`,
      {
        kind: SpanKind.PRODUCER,
        startTime: usToHrTime(info.tUs),
        attributes: {
          'messaging.system': l.system,
          'messaging.operation.type': 'send',
          'messaging.operation.name': 'send',
          'messaging.destination.name': info.topic,
          'messaging.destination.template': l.producerDestination,
          'iotload.run': l.run,
          'iotload.device': info.dev,
          'iotload.seq': info.seq,
          'iotload.t_us': info.tUs,
          'iotload.ti_us': info.tiUs,
        },
      },
      ROOT_CONTEXT,
    )
    if (this.pending.size >= MAX_PENDING) {
      const [oldKey, old] = this.pending.entries().next().value as [number, Span]
      this.pending.delete(oldKey)
      old.end()
    }
    this.pending.set(key(info.dev, info.seq), span)
    return { [TRACEPARENT]: formatTraceparent(span.spanContext()) }
  }

  /** Ends the send span at the broker's ack (or failure). */
  onSettled(info: SettleInfo): void {
    if (this.pending.size === 0) return
    const k = key(info.dev, info.seq)
    const span = this.pending.get(k)
    if (!span) return
    this.pending.delete(k)
    if (!info.ok) span.setStatus({ code: SpanStatusCode.ERROR, message: 'publish failed' })
    span.end(usToHrTime(info.ackUs))
  }

  /** Bridge span (hop in → hop out) for a traced message; returns the headers to republish with. */
  onBridge(info: BridgeForwardInfo): Record<string, string> | undefined {
    const tp = info.headers?.[TRACEPARENT]
    if (tp === undefined) return undefined
    const parent = contextFromTraceparent(tp)
    if (!parent) return undefined
    const source = this.labels.bridgeSource ?? this.labels.producerDestination
    const span = this.bridge.startSpan(
      `process ${source}`,
      {
        kind: SpanKind.CONSUMER,
        startTime: usToHrTime(info.hopInUs),
        attributes: {
          'messaging.system': this.labels.system,
          'messaging.operation.type': 'process',
          'messaging.operation.name': 'process',
          'messaging.destination.template': source,
          'messaging.destination.name': info.outTopic,
          'iotload.run': this.labels.run,
          'iotload.device': info.dev,
          'iotload.seq': info.seq,
          'iotload.bridge.in_topic': info.inTopic,
        },
      },
      parent,
    )
    span.end(usToHrTime(info.hopOutUs))
    return { ...info.headers, [TRACEPARENT]: formatTraceparent(span.spanContext()) }
  }

  /** Receive span for a traced message (traceparent from headers, else from the envelope). */
  onReceive(info: ReceiveInfo): void {
    const tp = info.headers?.[TRACEPARENT] ?? info.meta.tp
    if (tp === undefined) return
    const parent = contextFromTraceparent(tp)
    if (!parent) return
    const m = info.meta
    const span = this.consumer.startSpan(
      `receive ${this.labels.consumerDestination}`,
      {
        kind: SpanKind.CONSUMER,
        startTime: usToHrTime(info.recvUs),
        attributes: {
          'messaging.system': this.labels.system,
          'messaging.operation.type': 'receive',
          'messaging.operation.name': 'receive',
          'messaging.destination.subscription.name': this.labels.consumerDestination,
          'messaging.destination.name': info.topic,
          'iotload.run': this.labels.run,
          'iotload.device': m.dev,
          'iotload.seq': m.seq,
          'iotload.latency_us': info.recvUs - m.t,
          'iotload.latency_co_us': info.recvUs - m.ti,
        },
      },
      parent,
    )
    span.end(usToHrTime(Math.max(info.recvUs, nowUs())))
  }

  /** Ends publish spans still waiting for an ack (run over). */
  endPending(): void {
    for (const span of this.pending.values()) span.end()
    this.pending.clear()
  }
}

function key(dev: number, seq: number): number {
  return dev * 0x1_0000_0000 + seq
}
