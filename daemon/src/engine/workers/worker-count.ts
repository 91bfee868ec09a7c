import { availableParallelism } from 'node:os'
import type { RunTelemetry } from '@iotload/sdk'
import type { Scenario } from '../../scenario/schema.ts'

/**
 * Hooks called per message that cannot follow a run into its workers. A telemetry that offers
 * `sharding` (iotload's metrics and traces, a cluster producer's sends per topic) runs its own in
 * each worker (worker-main.ts); any other per-message hook keeps the run on the main thread.
 */
function perMessageHooks(t: RunTelemetry | undefined): boolean {
  if (t?.sharding) return false
  return !!(t?.onSend || t?.onReceive || t?.onPublishSettled || t?.onBridgeForward)
}

/**
 * Producer worker threads for a run: `run.workers`, with `auto` one per core capped by the fleet's
 * devices, and 1 (everything on the main thread, today's engine) where a worker cannot do the job:
 * per-message hooks that offer no `sharding`, or `consumer.external` (whose
 * correlation and warm-up bookkeeping needs the sends in the consumer's process).
 * `auto` counts producers only, so two cores run three busy threads (two producers, the consumer).
 * One producer worker beside the consumer's (a thread per core) was measured on 2026-12-05: the
 * seed's Kafka example at 10k msg/s became LIMITED (send lag p99 18 ms) and RabbitMQ with confirms
 * held no more (0.61 of raw against 0.81 with workers: 1), so the count stays one per core.
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
