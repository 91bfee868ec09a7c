import type { AuthConfig } from '@iotload/sdk'
import type { DeviceTlsTemplates } from '../../scenario/device-tls.ts'
import type { IdentityTable } from '../../scenario/identities-file.ts'
import type { PayloadOrder } from '../../scenario/recorded-payload.ts'
import type { Scenario } from '../../scenario/schema.ts'
import type { TrustPolicy } from '../../scenario/trust-policy.ts'
import type { DeviceFigure } from '../device-figures.ts'
import type { DeviceShard } from '../device-shard.ts'
import type { SubscriberSummary } from '../fanout-breakdown.ts'
import type { GroupSummary } from '../group-breakdown.ts'
import type { GeneratorReport } from '../generator-health.ts'
import type { FleetConnectStats } from '../producer-fleet.ts'
import type { ExternalVia, LegHosts, SecondReport } from '../recorder.ts'
import type { WorkerEvents } from './worker-events.ts'

/** A broker section as it crosses into a worker: the plugin by name, loaded again there. */
export interface WorkerBroker {
  pluginName: string
  config: unknown
  auth: AuthConfig | undefined
}

/** `workerData` of a run's worker thread. */
export interface WorkerInit {
  /** URL of worker-main.ts, loaded by the boot script. */
  entry: string
  runId: string
  index: number
  role: 'producer' | 'consumer'
  /** The producer worker's devices, on the fleet's schedule. */
  shard?: DeviceShard
  scenario: Scenario
  broker: WorkerBroker
  bridgeBroker: WorkerBroker | undefined
  consumerFilter: string
  /** Every filter the consumer subscribes to (device groups with topics of their own). */
  consumerFilters?: string[]
  /** The policy the main thread resolved the scenario under: a worker loads nothing it would refuse. */
  policy: TrustPolicy
  secrets: string[]
  /**
   * The run telemetry's worker side (`RunTelemetry.sharding`), set by the main thread from its own
   * telemetry: the worker records per-message metrics (posted each second) and traces its role.
   */
  telemetry?: { module: string; options: unknown; producers: number }
  /** A producer's rows of `producer.identities` (its devices', see identitiesOfShard). */
  identities?: IdentityTable
  /** Per-device client certificate templates (`broker.tls.cert: certs/{device}.pem`). */
  deviceTls?: DeviceTlsTemplates
  /** The recorded payload's rows (`producer.payload: { file }`), compiled again in the worker. */
  recordedPayload?: { file: string; order: PayloadOrder; data: Record<string, unknown>[] }
}

/** One device's sends, from the producer worker that owns it. */
export interface DeviceSends {
  dev: number
  sent: number
  firstMeasuredSeq: number
  lastSentSeq: number
}

/** Main thread → worker. */
export type ToWorker =
  | { type: 'start'; t0: number }
  | { type: 'stop' }
  /** Producers: settle, close and report. Consumer: close and report, with every producer's sends. */
  | {
      type: 'finish'
      settleMs: number
      sends?: DeviceSends[]
      /** The fleet's measured sends: what each fan-out subscriber is held to. */
      sentMeasured?: number
      /** Sends planned per second over the measured time, per device group. */
      groupTargets?: Record<string, number>
      askBacklog?: boolean
    }
  /**
   * Consumer, after its final report: the sends intended in each window ([from, to) µs) and those
   * never received, for the fault timeline's figures (the sequences live in the consumer).
   */
  | { type: 'loss'; t0Us: number; issued: number; windows: Array<[number, number]> }

/** What a producer worker reports when it finishes. */
export interface ProducerFinal {
  role: 'producer'
  sends: DeviceSends[]
  lastMeasuredSendUs: number
  measureStartUs: number
  generator: GeneratorReport | null
  connections: FleetConnectStats | null
  /** Measured sends above each device's … computed by the consumer side; here the send window. */
  sentMeasured: number
}

/** What the consumer worker reports when it finishes. */
export interface ConsumerFinal {
  role: 'consumer'
  devices: DeviceFigure[]
  undelivered: number
  firstMeasuredRecvUs: number
  lastMeasuredRecvUs: number
  legs: LegHosts[]
  hints: string[]
  externalMode: boolean
  externalVia: ExternalVia | undefined
  timestampResolutionUs: number | undefined
  externalAmbiguous: number
  correlationExpired: number
  queued: number | undefined
  bridge: unknown
  /** Per subscriber of a fan-out (`consumer.mode: fanout`), each held to every measured send. */
  subscribers?: SubscriberSummary[]
  /** Per device group (`producers:`). */
  groups?: GroupSummary[]
}

/** Worker → main thread. */
export type FromWorker =
  /** Connected; a producer's connection figures, for the fleet-wide `maxConnectFailures`. */
  | { type: 'ready'; connections?: FleetConnectStats | null }
  | { type: 'failed'; error: string }
  /**
   * `telemetry`: what the worker's per-message telemetry recorded since the last post; `events`:
   * its connection changes and failed publishes since then.
   */
  | { type: 'second'; report: SecondReport; telemetry?: unknown; events?: WorkerEvents }
  | {
      type: 'progress'
      sentAll: number
      sent: number
      unique: number
      publishErrors: number
      inFlight: number
    }
  | { type: 'scheduled' }
  | {
      type: 'final'
      report: SecondReport | undefined
      final: ProducerFinal | ConsumerFinal
      telemetry?: unknown
      events?: WorkerEvents
    }
  | { type: 'loss'; results: Array<{ sent: number; lost: number }> }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; msg: string; fields?: Record<string, unknown> }
