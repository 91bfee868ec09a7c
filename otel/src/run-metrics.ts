import type { Attributes } from '@opentelemetry/api'
import { BucketHistogram } from './latency-buckets.ts'
import { type LatencyFigures, LEGS, type Leg } from './latency-figures.ts'

export { LEGS, type Leg }

/** Bounded attributes of one run: no per-device values. */
export interface RunLabels {
  run: string
  /** `messaging.system`: the broker plugin name, e.g. `mqtt`. */
  system: string
  /** Producer topic template, e.g. `devices/{device}/telemetry`. */
  producerDestination: string
  /** Consumer filter, e.g. `actions/+`. */
  consumerDestination: string
}

function attrs(l: RunLabels, role: string, destination: string, extra?: Attributes): Attributes {
  return Object.freeze({
    run: l.run,
    role,
    'messaging.system': l.system,
    'messaging.destination.name': destination,
    ...extra,
  })
}

/**
 * Everything one run contributes to the metrics: cumulative counters fed once a second from the
 * engine's reports, and latency histograms fed per message (a bucket increment each).
 */
export class RunMetrics implements LatencyFigures {
  readonly producerAttrs: Attributes
  readonly consumerAttrs: Attributes
  readonly legAttrs: Record<Leg, Attributes>
  readonly e2e = new BucketHistogram()
  readonly e2eCorrected = new BucketHistogram()
  readonly legs: Record<Leg, BucketHistogram> = {
    'publish-ack': new BucketHistogram(),
    'producer-bridge': new BucketHistogram(),
    bridge: new BucketHistogram(),
    'bridge-consumer': new BucketHistogram(),
  }
  sent = 0
  received = 0
  lost = 0
  duplicates = 0
  invalid = 0
  publishErrors = 0
  reconnects = 0
  disconnects = 0
  gaps = 0
  connectedDevices = 0
  /** Largest send lag (actual − intended) seen since the last collection, µs. */
  lagMaxUs = 0
  /** Lag reported by the last collection, ms. */
  lagMs = 0
  ended = false
  readonly startTime: [number, number]

  constructor(
    readonly labels: RunLabels,
    readonly devices: number,
  ) {
    this.producerAttrs = attrs(labels, 'producer', labels.producerDestination)
    this.consumerAttrs = attrs(labels, 'consumer', labels.consumerDestination)
    this.legAttrs = {
      'publish-ack': attrs(labels, 'producer', labels.producerDestination, { leg: 'publish-ack' }),
      'producer-bridge': attrs(labels, 'bridge', labels.producerDestination, { leg: 'producer-bridge' }),
      bridge: attrs(labels, 'bridge', labels.producerDestination, { leg: 'bridge' }),
      'bridge-consumer': attrs(labels, 'consumer', labels.consumerDestination, { leg: 'bridge-consumer' }),
    }
    const ms = Date.now()
    this.startTime = [Math.floor(ms / 1000), (ms % 1000) * 1e6]
  }

  /** Generator lag gauge value: the worst lag since the previous scrape (or the last value). */
  takeLagMs(): number {
    if (this.lagMaxUs > 0) {
      this.lagMs = this.lagMaxUs / 1000
      this.lagMaxUs = 0
    }
    return this.lagMs
  }
}
