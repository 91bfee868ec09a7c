import type { BridgeStats } from '@iotload/sdk'
import type { InvalidReason } from '@iotload/sdk'
import type { SloThreshold } from '../scenario/slo.ts'
import { evaluateSlo, type SloResult, sloPassed } from './slo-verdicts.ts'
import type { StreamSummaryRow } from '../store/result-store.ts'
import type { FaultsSummary } from './fault-timeline.ts'
import type { GeneratorReport } from './generator-health.ts'
import type { LatencyStats } from './histogram.ts'
import type { StreamSnapshot } from './latency-stream.ts'
import type { FleetConnectStats } from './producer.ts'
import type { LegHosts, RunRecorder } from './recorder.ts'
import type { SubscriberSummary } from './fanout-breakdown.ts'
import type { GroupSummary } from './group-breakdown.ts'
import { type RunEnvironment, runEnvironment } from './run-environment.ts'
import { type DeviceFigure, type DevicesSummary, worstDevices } from './device-figures.ts'

export { evaluateSlo, type SloResult }

/** Figures for one stream. Latencies in µs; `co` is coordinated-omission corrected (from intended send time). */
export interface StreamSummary {
  sent?: number
  /** Deliveries owed in a fan-out (`consumer.mode: fanout`): sent × subscribers; absent otherwise. */
  expected?: number
  received?: number
  /** Measured messages missing behind a later arrival of their device (sequence gaps). */
  lost?: number
  /**
   * Measured messages sent after their device's last arrival and not received by the end of the
   * drain: lost, or still queued in the broker (a backlog on a slow path, not necessarily a loss).
   */
  undelivered?: number
  /** Messages the broker still held for the consumer at the end, where the plugin can ask (queue depth, consumer lag, pending). */
  queued?: number
  duplicates?: number
  reordered?: number
  invalid?: number
  /** Received messages per measured second. */
  rate?: number
  /** Sent messages per measured second. */
  sendRate?: number
  latency: { raw: LatencyStats; co?: LatencyStats }
}

/** The outcome of a run: what the CLI prints, `--json` writes, the store keeps and the API serves. */
export interface RunSummary {
  run: {
    id: string
    name: string
    status: string
    startedAt: string | null
    endedAt: string
    /**
     * Seconds actually measured (warm-up excluded): the scenario's duration, or less for a run
     * stopped early. Every rate is over this time (or longer, when sending or delivery took longer).
     */
    measuredSeconds: number
    /** Something was measured: false for a failed run and one stopped during warm-up (no figures, SLOs not evaluated). */
    measured: boolean
  }
  target: {
    plugin: string
    devices: number
    ratePerDevice: number
    totalRate: number
    durationS: number
    warmupS: number
    qos: number
    envelope: string
    /** `producer.stages`, when the rate followed a curve: `totalRate` is then its mean over the measured time. */
    stages?: Array<{ durationS: number; target: number; ramp: 'linear' | 'step' }>
  }
  streams: Record<string, StreamSummary>
  invalid: Partial<Record<InvalidReason, number>>
  generator: GeneratorReport | null
  generatorLimited: boolean
  connections: (FleetConnectStats & { disconnects: number; reconnects: number }) | null
  bridge: BridgeStats | null
  /** Where each leg's two stamps were taken; `crossHost` legs mix two clocks. */
  legs: LegHosts[]
  /**
   * Where send times came from: iotload's envelope (µs), or an external iPaaS's copy at a JSON path
   * (`consumer.external`), whose resolution bounds every latency (ms timestamps read up to 1 ms high).
   */
  timestamps: {
    source: 'envelope' | 'external'
    resolutionUs: number
    ambiguousWarmup?: number
    /** With `consumer.external`: envelope passed through, correlation id, or copied timestamp. */
    via?: 'envelopePath' | 'correlation' | 'timestamp'
    /** Correlation ids that came back after their slot was reused: received, without a latency. */
    expiredIds?: number
  }
  /**
   * Per device (where arrivals name their device): how many were tracked and the worst few by
   * missing messages, duplicates and p99. Every device is in the store.
   */
  devices?: DevicesSummary
  /** Per device group, when the scenario described groups (`producers:`). */
  groups?: GroupSummary[]
  /** Per subscriber of a fan-out (`consumer.mode: fanout`), each held to every measured send. */
  subscribers?: SubscriberSummary[]
  /** Settings the run suggests changing, in plain words (e.g. which envelopePath to set). */
  hints?: string[]
  /** Measured messages whose receive time preceded their send time (cross-host clocks); not recorded as latency. */
  clockSkew: number
  slo: SloResult[]
  /** null when the SLOs were not evaluated (nothing measured). */
  sloPassed: boolean | null
  /** iotload version, host, runtime and plugin versions (absent in runs stored before it was kept). */
  environment?: RunEnvironment
  /** The fault timeline's faults and the outages noticed, with recovery figures (docs/faults.md). */
  faults?: FaultsSummary
  /** A run sharded across worker threads (`run.workers` > 1): producer shards, threads, time spent merging. */
  workers?: { producers: number; threads: number; mergeMs: number }
  error?: string
}

/**
 * What a summary reads of a recorder: the run's own `RunRecorder`, or the merged view of a run's
 * worker threads (engine/workers).
 */
export type SummaryRecorder = Pick<
  RunRecorder,
  | 'total'
  | 'lastMeasuredSendUs'
  | 'firstMeasuredRecvUs'
  | 'lastMeasuredRecvUs'
  | 'externalMode'
  | 'externalVia'
  | 'timestampResolutionUs'
  | 'externalAmbiguous'
  | 'correlationExpired'
  | 'legs'
  | 'deviceFigures'
  | 'hints'
> & {
  readonly streams: ReadonlyMap<string, { cumulative(): StreamSnapshot }>
  /** Subscribers that each receive every message (fan-out); 1 when absent. */
  readonly fanout?: number
}

/** Inputs to `buildSummary`. */
export interface SummaryInputs {
  id: string
  name: string
  status: string
  startedAt: number | null
  plugin: string
  target: RunSummary['target']
  recorder: SummaryRecorder
  generator: GeneratorReport | null
  connections: FleetConnectStats | null
  bridge: BridgeStats | null
  slo: SloThreshold[]
  consumerEnabled: boolean
  /** End of warm-up (µs since the epoch), where the send-rate window starts. */
  measureStartUs?: number
  /** Seconds actually measured. @default target.durationS */
  measuredS?: number
  /** Measured messages not delivered by the end (see StreamSummary.undelivered). @default 0 */
  undelivered?: number
  /** Messages the broker still held at the end, when the plugin can tell. */
  queued?: number
  /** Broker plugins the run used (for the environment). @default [plugin] */
  pluginNames?: string[]
  /** Hints of the run itself, before the recorder's (how `run.workers: auto` was resolved). */
  runHints?: string[]
  error?: string
}

/**
 * Measured sends per second over the time the schedule really took: from the end of warm-up to the
 * last measured send stamp, and never less than the scenario's duration. A generator that falls
 * behind stretches the window, so its achieved rate drops below the target instead of hiding.
 */
export function sendRate(
  recorder: Pick<SummaryRecorder, 'total' | 'lastMeasuredSendUs'>,
  durationS: number,
  measureStartUs: number | undefined,
): number {
  const sent = recorder.total.sent
  if (sent === 0 || !measureStartUs) return durationS > 0 ? sent / durationS : 0
  return ratePerSecond(sent, durationS, measureStartUs, recorder.lastMeasuredSendUs)
}

/**
 * `count` per second over the window `fromUs`…`toUs`, never over less than the scenario's duration
 * (the rule of every rate in a summary, on one daemon or merged across a cluster).
 */
export function ratePerSecond(count: number, durationS: number, fromUs: number, toUs: number): number {
  const seconds = Math.max(durationS, toUs > fromUs ? (toUs - fromUs) / 1e6 : 0)
  return count === 0 || seconds <= 0 ? 0 : count / seconds
}

/**
 * First arrivals per second over the time they took to arrive (first to last measured arrival),
 * never less than the duration: a broker that delivers a backlog late shows a lower rate.
 */
export function receiveRate(recorder: SummaryRecorder, durationS: number): number {
  return ratePerSecond(
    recorder.total.received,
    durationS,
    recorder.firstMeasuredRecvUs,
    recorder.lastMeasuredRecvUs,
  )
}

/** Builds the summary from the recorder's cumulative state. */
export function buildSummary(i: SummaryInputs): {
  summary: RunSummary
  rows: StreamSummaryRow[]
  /** Every device's figures, for the store. */
  devices: DeviceFigure[]
} {
  const c = i.recorder.total
  const seconds = i.measuredS ?? i.target.durationS
  const measured = i.status !== 'failed' && seconds > 0
  const streams: Record<string, StreamSummary> = {}
  const rows: StreamSummaryRow[] = []
  for (const [name, stream] of i.recorder.streams) {
    const snap = stream.cumulative()
    const s: StreamSummary = { latency: snap.co ? { raw: snap.raw, co: snap.co } : { raw: snap.raw } }
    const row: StreamSummaryRow = { stream: name, raw: snap.raw, rawHist: snap.rawHist }
    if (snap.co) row.co = snap.co
    if (snap.coHist) row.coHist = snap.coHist
    if (name === 'e2e') {
      s.sent = c.sent
      s.received = c.received
      // A fan-out owes every message to every subscriber: received, lost and the rest count deliveries.
      const fanout = i.recorder.fanout ?? 1
      const expected = c.sent * fanout
      if (fanout > 1) s.expected = expected
      const missing = i.consumerEnabled ? Math.max(0, expected - c.received) : 0
      s.undelivered = Math.min(missing, i.undelivered ?? 0)
      s.lost = missing - s.undelivered
      if (i.queued !== undefined) s.queued = i.queued
      s.duplicates = c.duplicates
      s.reordered = c.reordered
      s.invalid = c.invalid
      s.rate = Math.round(receiveRate(i.recorder, seconds) * 10) / 10
      s.sendRate = Math.round(sendRate(i.recorder, seconds, i.measureStartUs) * 10) / 10
      Object.assign(row, {
        sent: s.sent,
        received: s.received,
        lost: s.lost,
        duplicates: s.duplicates,
        reordered: s.reordered,
        invalid: s.invalid,
        rate: s.rate,
      })
    }
    if (name !== 'e2e' && snap.raw.count === 0) continue
    streams[name] = s
    rows.push(row)
  }
  const generatorLimited = i.generator?.limited ?? false
  const slo = evaluateSlo(i.slo, streams, { measured, generatorLimited })
  const summary: RunSummary = {
    run: {
      id: i.id,
      name: i.name,
      status: i.status,
      startedAt: i.startedAt ? new Date(i.startedAt).toISOString() : null,
      endedAt: new Date().toISOString(),
      measuredSeconds: Math.round(seconds * 1000) / 1000,
      measured,
    },
    target: i.target,
    streams,
    invalid: { ...c.invalidByReason },
    generator: i.generator,
    generatorLimited,
    connections: i.connections
      ? { ...i.connections, disconnects: c.disconnects, reconnects: c.reconnects }
      : null,
    bridge: i.bridge ? { ...i.bridge } : null,
    legs: i.recorder.legs(),
    timestamps: i.recorder.externalMode
      ? {
          source: 'external',
          resolutionUs: i.recorder.timestampResolutionUs ?? 1,
          ambiguousWarmup: i.recorder.externalAmbiguous,
        }
      : { source: 'envelope', resolutionUs: 1 },
    clockSkew: c.clockSkew,
    slo,
    sloPassed: sloPassed(slo),
    environment: runEnvironment(i.pluginNames ?? [i.plugin]),
  }
  const via = i.recorder.externalVia
  if (via) summary.timestamps.via = via
  if (via === 'correlation') summary.timestamps.expiredIds = i.recorder.correlationExpired
  const devices = i.consumerEnabled ? i.recorder.deviceFigures() : []
  if (devices.length > 0) summary.devices = worstDevices(devices)
  const hints = [...(i.runHints ?? []), ...i.recorder.hints()]
  if (hints.length > 0) summary.hints = hints
  if (i.error) summary.error = i.error
  return { summary, rows, devices }
}
