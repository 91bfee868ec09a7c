import type { BridgeStats } from '@iotload/ipaas-bridge'
import type { InvalidReason } from '@iotload/sdk'
import type { SloThreshold } from '../scenario/slo.ts'
import type { StreamSummaryRow } from '../store/result-store.ts'
import type { GeneratorReport } from './generator-health.ts'
import type { LatencyStats } from './histogram.ts'
import type { FleetConnectStats } from './producer.ts'
import type { LegHosts, RunRecorder } from './recorder.ts'

/** Figures for one stream. Latencies in µs; `co` is coordinated-omission corrected (from intended send time). */
export interface StreamSummary {
  sent?: number
  received?: number
  lost?: number
  duplicates?: number
  reordered?: number
  invalid?: number
  /** Received messages per measured second. */
  rate?: number
  /** Sent messages per measured second. */
  sendRate?: number
  latency: { raw: LatencyStats; co?: LatencyStats }
}

/** Verdict on one SLO threshold. */
export interface SloResult {
  key: string
  threshold: string
  actual: string
  pass: boolean
}

/** The outcome of a run: what the CLI prints, `--json` writes, the store keeps and the API serves. */
export interface RunSummary {
  run: {
    id: string
    name: string
    status: string
    startedAt: string | null
    endedAt: string
    /** Seconds over which rates are computed (the scenario's duration). */
    measuredSeconds: number
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
  timestamps: { source: 'envelope' | 'external'; resolutionUs: number; ambiguousWarmup?: number }
  /** Measured messages whose receive time preceded their send time (cross-host clocks); not recorded as latency. */
  clockSkew: number
  slo: SloResult[]
  sloPassed: boolean
  error?: string
}

/** Inputs to `buildSummary`. */
export interface SummaryInputs {
  id: string
  name: string
  status: string
  startedAt: number | null
  plugin: string
  target: RunSummary['target']
  recorder: RunRecorder
  generator: GeneratorReport | null
  connections: FleetConnectStats | null
  bridge: BridgeStats | null
  slo: SloThreshold[]
  consumerEnabled: boolean
  /** End of warm-up (µs since the epoch), where the send-rate window starts. */
  measureStartUs?: number
  error?: string
}

function fmtUs(us: number): string {
  return us >= 1000 ? `${(us / 1000).toFixed(3)}ms` : `${us}us`
}

/** Verdicts of SLO thresholds on stream figures (also used on merged cluster results). */
export function evaluateSlo(thresholds: SloThreshold[], streams: Record<string, StreamSummary>): SloResult[] {
  const e2e = streams.e2e
  return thresholds.map((t): SloResult => {
    if (t.kind === 'latency') {
      const s = streams[t.stream]
      const stats = t.corrected ? s?.latency.co : s?.latency.raw
      if (!stats || stats.count === 0)
        return { key: t.key, threshold: `≤ ${fmtUs(t.maxUs)}`, actual: 'no data', pass: false }
      const actual = stats[t.stat]
      return { key: t.key, threshold: `≤ ${fmtUs(t.maxUs)}`, actual: fmtUs(actual), pass: actual <= t.maxUs }
    }
    const count =
      t.metric === 'loss'
        ? (e2e?.lost ?? 0)
        : t.metric === 'invalid'
          ? (e2e?.invalid ?? 0)
          : (e2e?.duplicates ?? 0)
    const sent = e2e?.sent ?? 0
    if (t.maxRatio !== undefined) {
      const ratio = sent > 0 ? count / sent : 0
      return {
        key: t.key,
        threshold: `≤ ${(t.maxRatio * 100).toPrecision(3)}%`,
        actual: `${(ratio * 100).toPrecision(3)}%`,
        pass: ratio <= t.maxRatio,
      }
    }
    return {
      key: t.key,
      threshold: `≤ ${t.maxCount}`,
      actual: String(count),
      pass: count <= (t.maxCount ?? 0),
    }
  })
}

/**
 * Measured sends per second over the time the schedule really took: from the end of warm-up to the
 * last measured send stamp, and never less than the scenario's duration. A generator that falls
 * behind stretches the window, so its achieved rate drops below the target instead of hiding.
 */
export function sendRate(
  recorder: RunRecorder,
  durationS: number,
  measureStartUs: number | undefined,
): number {
  const sent = recorder.total.sent
  if (sent === 0 || !measureStartUs) return sent / durationS
  return ratePerSecond(sent, durationS, measureStartUs, recorder.lastMeasuredSendUs)
}

/**
 * `count` per second over the window `fromUs`…`toUs`, never over less than the scenario's duration
 * (the rule of every rate in a summary, on one daemon or merged across a cluster).
 */
export function ratePerSecond(count: number, durationS: number, fromUs: number, toUs: number): number {
  if (count === 0) return 0
  return count / Math.max(durationS, toUs > fromUs ? (toUs - fromUs) / 1e6 : 0)
}

/**
 * First arrivals per second over the time they took to arrive (first to last measured arrival),
 * never less than the duration: a broker that delivers a backlog late shows a lower rate.
 */
export function receiveRate(recorder: RunRecorder, durationS: number): number {
  return ratePerSecond(
    recorder.total.received,
    durationS,
    recorder.firstMeasuredRecvUs,
    recorder.lastMeasuredRecvUs,
  )
}

/** Builds the summary from the recorder's cumulative state. */
export function buildSummary(i: SummaryInputs): { summary: RunSummary; rows: StreamSummaryRow[] } {
  const c = i.recorder.total
  const seconds = i.target.durationS
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
      s.lost = i.consumerEnabled ? Math.max(0, c.sent - c.received) : 0
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
  const slo = evaluateSlo(i.slo, streams)
  const summary: RunSummary = {
    run: {
      id: i.id,
      name: i.name,
      status: i.status,
      startedAt: i.startedAt ? new Date(i.startedAt).toISOString() : null,
      endedAt: new Date().toISOString(),
      measuredSeconds: seconds,
    },
    target: i.target,
    streams,
    invalid: { ...c.invalidByReason },
    generator: i.generator,
    generatorLimited: i.generator?.limited ?? false,
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
    sloPassed: slo.every((r) => r.pass),
  }
  if (i.error) summary.error = i.error
  return { summary, rows }
}
