/**
 * What each worker thread of a sharded run imports (`RunTelemetry.sharding.module`): the run's
 * per-message metrics, recorded in the worker and posted to the main thread once a second.
 * Traces are not here: a message's span starts in a producer worker and ends in the consumer's,
 * so a traced run stays on one thread.
 */
import type { WorkerTelemetry } from '@iotload/sdk'
import {
  type LatencyFiguresState,
  newLatencyFigures,
  recordReceive,
  recordSend,
  recordSettled,
  takeFigures,
} from './latency-figures.ts'

/** A worker's metrics hooks; `take()` is what `absorbFigures` adds on the main thread. */
export interface WorkerMetricsHooks extends WorkerTelemetry {
  take(): LatencyFiguresState
}

export function workerTelemetry(): WorkerMetricsHooks {
  const f = newLatencyFigures()
  // Like the main thread's hooks: a telemetry fault never reaches the run.
  return {
    onSend(info) {
      try {
        recordSend(f, info)
      } catch {}
      return undefined
    },
    onPublishSettled(info) {
      try {
        recordSettled(f, info)
      } catch {}
    },
    onReceive(info) {
      try {
        recordReceive(f, info)
      } catch {}
    },
    take: () => takeFigures(f),
  }
}
