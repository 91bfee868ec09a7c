import { guardHooks } from './guard-hooks.ts'
import type { RunTelemetryHooks } from './hooks.ts'
import { absorbFigures, recordReceive, recordSend, recordSettled } from './latency-figures.ts'
import { type MessageSpanLabels, MessageSpans } from './message-spans.ts'
import type { IotloadMetrics } from './metrics.ts'
import { LEGS, type RunMetrics } from './run-metrics.ts'
import { DEFAULT_SAMPLING, type Sampling } from './sampling.ts'
import type { Tracing } from './tracing.ts'
import type { WorkerTelemetryOptions } from './worker-telemetry.ts'

/** Options for `createRunTelemetry`. */
export interface RunTelemetryOptions {
  run: string
  /** `messaging.system`: the broker plugin name. */
  system: string
  /** The producer's topic template (bounded label; never a per-device topic). */
  producerDestination: string
  /** The consumer's filter. @default producerDestination */
  consumerDestination?: string
  /** The bridge's inbound topic template (`bridge.from`), named in its span. @default producerDestination */
  bridgeSource?: string
  /** Emulated devices, for the connected-devices gauge. */
  devices: number
  /** Omit for no metrics. */
  metrics?: IotloadMetrics
  /** Omit for no traces. */
  tracing?: Tracing
  /** @default 10 per second */
  sampling?: Sampling
}

/**
 * The engine hooks of one run (assignable to the daemon's `RunTelemetry`).
 *
 * Metrics cost per received message: a few bucket increments (`BucketHistogram.record`, ~20 ns),
 * not the SDK's `Histogram.record` (~2.5 µs with attribute hashing); counters are folded from the
 * engine's per-second reports and read at scrape time. Traces cost one comparison per unsampled
 * message. Every hook is wrapped so a telemetry fault never reaches the run.
 *
 * @example
 * const t = createTelemetry()
 * startRun(resolved, { telemetry: t.forRun({ run: id, system: 'mqtt', producerDestination: 'd/{device}', devices: 10 }) })
 */
export function createRunTelemetry(o: RunTelemetryOptions): RunTelemetryHooks {
  const consumerDestination = o.consumerDestination ?? o.producerDestination
  const m: RunMetrics | undefined = o.metrics?.registerRun(
    { run: o.run, system: o.system, producerDestination: o.producerDestination, consumerDestination },
    o.devices,
  )
  const sampling = o.sampling ?? DEFAULT_SAMPLING
  const spanLabels: MessageSpanLabels = {
    run: o.run,
    system: o.system,
    producerDestination: o.producerDestination,
    consumerDestination,
    ...(o.bridgeSource ? { bridgeSource: o.bridgeSource } : {}),
  }
  const tracing = o.tracing && sampling.kind !== 'off' ? o.tracing : undefined
  const spans = tracing ? new MessageSpans(tracing.tracerFor, spanLabels, sampling) : undefined
  let disconnects = 0
  let reconnects = 0
  let ended = false

  const hooks: RunTelemetryHooks = {
    onReceive(info) {
      if (m) recordReceive(m, info)
      spans?.onReceive(info)
    },
    onSecond(report) {
      if (!m) return
      const c = report.counters
      m.sent += c.sent
      m.received += c.received
      m.duplicates += c.duplicates
      m.invalid += c.invalid
      m.publishErrors += c.publishErrors
      m.reconnects += c.reconnects
      disconnects += c.disconnects
      reconnects += c.reconnects
      m.gaps = report.gaps
      m.connectedDevices = Math.max(0, o.devices - Math.max(0, disconnects - reconnects))
    },
    onRunEnd(summary) {
      if (ended) return
      ended = true
      spans?.endPending()
      if (m) {
        m.lost = summary.streams.e2e?.lost ?? 0
        o.metrics?.endRun(m)
      }
      void o.tracing?.forceFlush()
    },
  }
  if (m || spans) {
    hooks.onSend = (info) => {
      if (m) recordSend(m, info)
      return spans?.onSend(info)
    }
    hooks.onPublishSettled = (info) => {
      if (m) recordSettled(m, info)
      spans?.onSettled(info)
    }
  }
  if (spans) hooks.onBridgeForward = (info) => spans.onBridge(info)
  const guarded = guardHooks(hooks)
  // Each worker thread of a sharded run records its own metrics and traces its own role; spans
  // need an exporter the worker can set up again from the environment it inherits.
  if ((m || spans) && (!tracing || tracing.portable)) {
    const options: WorkerTelemetryOptions = {
      metrics: m !== undefined,
      ...(tracing
        ? {
            traces: {
              labels: spanLabels,
              sampling,
              serviceName: tracing.serviceName('producer').replace(/-producer$/, ''),
            },
          }
        : {}),
    }
    guarded.sharding = {
      module: WORKER_TELEMETRY,
      options,
      absorb(state) {
        if (!m) return
        try {
          absorbFigures(m, state)
        } catch {}
      },
    }
  }
  return guarded
}

/** The module each worker thread of a sharded run imports for its per-message metrics. */
const WORKER_TELEMETRY = new URL('./worker-telemetry.ts', import.meta.url).href

/** Leg names exposed as the `leg` attribute of `iotload.leg.latency`. */
export const LATENCY_LEGS = LEGS
