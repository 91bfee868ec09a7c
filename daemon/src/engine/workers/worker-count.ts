import { availableParallelism } from 'node:os'
import type { RunTelemetry } from '@iotload/sdk'
import type { ResolvedScenario } from '../../scenario/load-scenario.ts'
import { type BrokerPlacement, brokerPlacement } from './broker-placement.ts'

/**
 * Hooks called per message that cannot follow a run into its workers. A telemetry that offers
 * `sharding` (iotload's metrics and traces, a cluster producer's sends per topic) runs its own in
 * each worker (worker-main.ts); any other per-message hook keeps the run on the main thread.
 */
function perMessageHooks(t: RunTelemetry | undefined): boolean {
  if (t?.sharding) return false
  return !!(t?.onSend || t?.onReceive || t?.onPublishSettled || t?.onBridgeForward)
}

/** What a run's producer side gets: worker threads (1: the main thread alone), and why `auto` gave fewer than cores. */
export interface WorkerPlan {
  producers: number
  /** In plain words, for the summary's hints and the log: `auto` left cores to a broker on this machine. */
  note?: string
}

/** The machine a plan is made for: its cores and where the run's brokers are. */
export interface PlanMachine {
  cores: number
  placement: () => BrokerPlacement
}

/**
 * Producer worker threads for a run: `run.workers`, capped by the fleet's devices; 1 (everything
 * on the main thread, today's engine) where a worker cannot do the job: per-message hooks that
 * offer no `sharding`, or `consumer.external` (whose correlation and warm-up bookkeeping needs the
 * sends in the consumer's process).
 *
 * `auto` is one producer worker per core the generator can have. A broker on this machine needs
 * cores too, so producer workers get half of them (2 cores: one thread, as `workers: 1`; 8 cores:
 * 4 producer workers and the consumer's, leaving the broker about 3). Measured on 2
 * cores (2026-12-05), sharding beside a local broker cost Mosquitto (QoS 0: 0.84 of workers: 1)
 * and RabbitMQ (0.89): each extra thread takes CPU the broker needs. Brokers elsewhere, or none
 * (ZeroMQ's own sockets), leave the generator every core. `auto` counts producers only: N
 * producer workers run beside the consumer's.
 */
export function workerPlan(
  resolved: ResolvedScenario,
  telemetry?: RunTelemetry,
  machine: PlanMachine = { cores: availableParallelism(), placement: () => brokerPlacement(resolved) },
): WorkerPlan {
  const s = resolved.scenario
  const asked = s.run.workers
  if (asked === 1) return { producers: 1 }
  if (s.consumer.external || perMessageHooks(telemetry)) return { producers: 1 }
  const cap = (n: number) => Math.max(1, Math.min(n, s.producer.devices))
  if (asked !== 'auto') return { producers: cap(asked) }
  // Asked only for auto: a run with a number never looks at where its broker is.
  const cores = machine.cores
  const placement = machine.placement()
  if (placement.where !== 'local') return { producers: cap(cores) }
  const producers = cap(Math.floor(cores / 2))
  if (producers >= cap(cores)) return { producers }
  const threads = producers === 1 ? 'one thread' : `${producers} producer workers`
  return {
    producers,
    note: `run.workers auto ran ${threads}: the broker at ${placement.host} shares this machine's ${cores} cores, so auto gives producer workers half of them; set run.workers to a number to choose`,
  }
}
