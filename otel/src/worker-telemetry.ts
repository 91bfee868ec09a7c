/**
 * What each worker thread of a sharded run imports (`RunTelemetry.sharding.module`): the run's
 * per-message metrics, recorded in the worker and posted to the main thread once a second, and its
 * per-message spans. A message's spans belong to one role each (send in the producer, process in
 * the bridge, receive in the consumer) and are linked by the `traceparent` the message carries, so
 * each worker traces its own role with its own exporter, set up from the environment it inherits.
 */
import type { WorkerSlot, WorkerTelemetry } from '@iotload/sdk'
import {
  type LatencyFiguresState,
  newLatencyFigures,
  recordReceive,
  recordSend,
  recordSettled,
  takeFigures,
} from './latency-figures.ts'
import { guardHooks } from './guard-hooks.ts'
import { type MessageSpanLabels, MessageSpans } from './message-spans.ts'
import type { Sampling } from './sampling.ts'
import { createTracing, type Tracing } from './tracing.ts'

/** `sharding.options` as `createRunTelemetry` sets them. */
export interface WorkerTelemetryOptions {
  metrics: boolean
  traces?: { labels: MessageSpanLabels; sampling: Sampling; serviceName: string }
}

/** A worker's hooks; `take()` is what `absorbFigures` adds on the main thread. */
export interface WorkerMetricsHooks extends WorkerTelemetry {
  take(): LatencyFiguresState
}

/** Longest a worker waits for its spans to export before it ends. */
const CLOSE_TIMEOUT_MS = 5000

/**
 * A per-second sampling budget is the whole run's: each of the producer workers takes its share,
 * so a sharded run traces as many messages a second as a single-thread one.
 */
export function workerSampling(sampling: Sampling, slot: WorkerSlot): Sampling {
  if (sampling.kind !== 'rate' || slot.role !== 'producer') return sampling
  return { kind: 'rate', perSecond: sampling.perSecond / Math.max(1, slot.producers) }
}

export function workerTelemetry(
  options: WorkerTelemetryOptions = { metrics: true },
  slot: WorkerSlot = { role: 'producer', producers: 1 },
): WorkerMetricsHooks {
  const f = newLatencyFigures()
  const metrics = options.metrics
  let tracing: Tracing | undefined
  let spans: MessageSpans | undefined
  if (options.traces) {
    tracing = createTracing({ registerGlobal: false, serviceName: options.traces.serviceName })
    if (tracing)
      spans = new MessageSpans(
        tracing.tracerFor,
        options.traces.labels,
        workerSampling(options.traces.sampling, slot),
      )
  }
  // Like the main thread's hooks: a telemetry fault never reaches the run.
  const perMessage: Omit<WorkerTelemetry, 'take' | 'close'> = guardHooks({
    onSend(info) {
      if (metrics) recordSend(f, info)
      return spans?.onSend(info)
    },
    onPublishSettled(info) {
      if (metrics) recordSettled(f, info)
      spans?.onSettled(info)
    },
    onReceive(info) {
      if (metrics) recordReceive(f, info)
      spans?.onReceive(info)
    },
    ...(spans ? { onBridgeForward: (info) => spans?.onBridge(info) } : {}),
  } satisfies Omit<WorkerTelemetry, 'take' | 'close'>)
  return {
    ...perMessage,
    take: () => takeFigures(f),
    async close() {
      if (!tracing) return
      spans?.endPending()
      const t = tracing
      let timer: NodeJS.Timeout | undefined
      await Promise.race([
        t.shutdown().catch(() => undefined),
        new Promise<void>((r) => {
          timer = setTimeout(r, CLOSE_TIMEOUT_MS)
        }),
      ])
      clearTimeout(timer)
    },
  }
}
