import { availableParallelism } from 'node:os'
import type { RunTelemetry } from '@iotload/sdk'
import type { Scenario } from '../../scenario/schema.ts'

/** Hooks called per message: they live on the main thread and cannot follow a run into its workers. */
function perMessageHooks(t: RunTelemetry | undefined): boolean {
  return !!(t?.onSend || t?.onReceive || t?.onPublishSettled || t?.onBridgeForward)
}

/**
 * Producer worker threads for a run: `run.workers`, with `auto` one per core capped by the fleet's
 * devices, and 1 (everything on the main thread, today's engine) where a worker cannot do the job:
 * per-message telemetry (metrics fed per message, traces) or `consumer.external` (whose
 * correlation and warm-up bookkeeping needs the sends in the consumer's process).
 */
export function producerWorkers(
  s: Scenario,
  telemetry?: RunTelemetry,
  cores: number = availableParallelism(),
): number {
  const asked = s.run.workers
  if (asked === 1) return 1
  if (s.consumer.external || perMessageHooks(telemetry)) return 1
  const n = asked === 'auto' ? cores : asked
  return Math.max(1, Math.min(n, s.producer.devices))
}
