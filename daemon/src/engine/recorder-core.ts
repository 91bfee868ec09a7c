import { hostname } from 'node:os'
import { type DecodedMeta, decodeEnvelope, type InvalidReason, nowUs } from '@iotload/sdk'
import type { CorrelationTable } from './correlation-table.ts'
import { Counters } from './counters.ts'
import { DeviceFigures } from './device-figures.ts'
import { EnvelopeProbe } from './envelope-probe.ts'
import type { ExternalLegStamps } from './external-decode.ts'
import { LatencyStream, type StreamSnapshot } from './latency-stream.ts'
import type { LossEstimate } from './loss-estimate.ts'
import type { ExternalTimestamps } from './recorder-external.ts'
import { type LegHosts, LegRecorder, STREAM } from './recorder-legs.ts'
import { SequenceTracker } from './sequence-tracker.ts'
import type { GeneratorSecond } from './generator-health.ts'
import { type LaneTap, laneKey, type SubscriberSecond } from './fanout-breakdown.ts'
import type { GroupSecond, GroupTap } from './group-breakdown.ts'

/** One stream's figures for one second. */
export interface StreamSecond {
  stream: string
  snapshot: StreamSnapshot
}

/** Everything recorded in one second of the run. */
export interface SecondReport {
  /** Seconds since the schedule started (0-based). */
  second: number
  /** The second lies (partly) inside the warm-up. */
  warmup: boolean
  counters: Counters
  /** Sequence gaps outstanding at the end of this second (lost or still in flight). */
  gaps: number
  /**
   * Without sequence numbers (external timestamps only): messages sent in the last 10 s, older
   * than twice the latency measured lately, that have not arrived. An estimate (see LossEstimate).
   */
  lostEstimate?: number
  streams: StreamSecond[]
  /** The load generator's figures for the second, where a producer ran here. */
  generator?: GeneratorSecond
  /** Sends the schedule planned in this second (its target rate, fleet-wide); set by the run. */
  targetRate?: number
  /** Per device group (`producers:`), set by the run. */
  groups?: GroupSecond[]
  /** Per fan-out subscriber (`consumer.mode: fanout`), set by the run. */
  subscribers?: SubscriberSecond[]
}

/** How an external flow's messages are measured (`consumer.external`), for the summary. */
export type ExternalVia = 'envelopePath' | 'correlation' | 'timestamp'

/**
 * The recorder's core: counters, latency streams, iotload's envelope. `RunRecorder` (recorder.ts)
 * adds the external-flow modes on top.
 */
export class RecorderCore {
  readonly total = new Counters()
  protected current = new Counters()
  readonly streams = new Map<string, LatencyStream>()
  readonly sequences = new SequenceTracker()
  /** Sends and arrivals per device (sends only in the process that runs the producer). */
  readonly devices = new DeviceFigures()
  protected e2e: LatencyStream
  /** Host id of this process: the producer's and the consumer's stamps are taken here. */
  readonly host = hostname()
  protected readonly legRecorder: LegRecorder
  /** External-iPaaS timestamps (see `useExternalTimestamps`); undefined otherwise. */
  protected external: ExternalTimestamps | undefined
  protected lossEstimate: LossEstimate | undefined
  protected correlation: CorrelationTable | undefined
  /** How `consumer.external` finds send times; undefined for iotload's own envelope. */
  externalVia: ExternalVia | undefined
  /** Arrivals name their device (not so for external timestamps without `devicePath`). */
  protected devicesKnown = true
  /** The leg stamp paths of `consumer.external.legs`, for the hints. */
  legPaths: { in?: string; out?: string } = {}
  /** Correlation ids that came back after their slot was reused: received, without a latency. */
  correlationExpired = 0
  protected readonly probe = new EnvelopeProbe()
  /** Send stamp of the latest measured send: how long the schedule really took. */
  lastMeasuredSendUs = 0
  /** Arrival of the first and latest measured messages (first arrivals only). */
  firstMeasuredRecvUs = 0
  lastMeasuredRecvUs = 0
  /** External messages without a seq (so not in the sequence tracker), counted for drain. */
  protected unsequenced = 0
  /** Per-group results of a fleet of device groups (see GroupBreakdown). */
  groupTap: GroupTap | undefined
  /** Subscribers that each receive every message (`consumer.mode: fanout`); 1 otherwise. */
  fanout = 1
  /** Per-subscriber results of a fan-out (see FanoutBreakdown). */
  laneTap: LaneTap | undefined

  constructor(
    readonly runId: string,
    protected readonly tag: number,
    private readonly onStatus?: (status: string) => void,
    /** When the second being closed ends (µs): the loss estimate's "now". */
    protected readonly clockUs: () => number = nowUs,
  ) {
    this.e2e = this.stream(STREAM.e2e, true)
    this.legRecorder = new LegRecorder(
      this.host,
      (name, corrected) => this.stream(name, corrected),
      (name) => this.streams.has(name),
    )
  }

  /** Host of iotload's in-process bridge, for hops that carry no host id of their own. */
  get bridgeHost(): string | undefined {
    return this.legRecorder.bridgeHost
  }

  set bridgeHost(host: string | undefined) {
    this.legRecorder.bridgeHost = host
  }

  /** Messages are measured from an external iPaaS's timestamps (no seqs, no intended times). */
  get externalMode(): boolean {
    return this.external !== undefined
  }

  /** Coarsest timestamp resolution seen in external-iPaaS mode (µs); undefined in envelope mode. */
  get timestampResolutionUs(): number | undefined {
    return this.external?.resolutionUs
  }

  /** External messages at the warm-up boundary split between warm-up and measured by send counts. */
  get externalAmbiguous(): number {
    return this.external?.ambiguous ?? 0
  }

  /** The named stream, created on first use. */
  stream(name: string, corrected = false): LatencyStream {
    let s = this.streams.get(name)
    if (!s) {
      s = new LatencyStream(name, corrected)
      this.streams.set(name, s)
    }
    return s
  }

  /**
   * A send was handed to the plugin; `tUs` is its send stamp, `tiUs` its intended time, `renderUs`
   * the time its payload's time placeholders rendered (what an external flow copies back).
   */
  onSent(warmup: boolean, tUs: number, dev?: number, seq?: number, tiUs?: number, renderUs?: number): void {
    if (warmup) this.current.sentWarmup++
    else {
      this.current.sent++
      if (tUs > this.lastMeasuredSendUs) this.lastMeasuredSendUs = tUs
    }
    this.external?.onSent(warmup, renderUs ?? tUs, renderUs !== undefined)
    this.lossEstimate?.onSent(tUs)
    if (dev === undefined || seq === undefined) return
    this.devices.onSent(dev, seq, warmup)
    this.groupTap?.onSent(dev, warmup)
    this.correlation?.put(dev, seq, tUs, tiUs ?? tUs, warmup)
  }

  /** First arrivals of measured messages bound the window the receive rate is computed over. */
  protected noteMeasuredArrival(recvUs: number): void {
    this.current.received++
    if (this.firstMeasuredRecvUs === 0) this.firstMeasuredRecvUs = recvUs
    this.lastMeasuredRecvUs = recvUs
  }

  onPublishAck(latencyUs: number, warmup: boolean): void {
    if (!warmup) this.stream(STREAM.publishAck).record(latencyUs)
  }

  /** Told of each failed publish with its cause and send time (the fault timeline's figures). */
  onPublishFailure: ((err: unknown, sentUs: number) => void) | undefined

  onPublishError(err?: unknown, sentUs?: number): void {
    this.current.publishErrors++
    if (sentUs !== undefined) this.onPublishFailure?.(err, sentUs)
  }

  onConnectionStatus(status: string): void {
    if (status === 'disconnected') this.current.disconnects++
    else if (status === 'reconnected') this.current.reconnects++
    this.onStatus?.(status)
  }

  onInvalid(reason: InvalidReason): void {
    this.current.countInvalid(reason)
  }

  /** A message without metadata where it was expected: maybe the envelope is nested elsewhere. */
  noteNoMetadata(payload: Uint8Array): void {
    this.probe.offer(payload)
  }

  /**
   * Decodes and records one received payload; `recvUs` was stamped before anything else ran.
   * Returns the metadata of a valid own-run message (for tracing), else undefined.
   */
  onPayload(payload: Uint8Array, recvUs: number, lane = 0): DecodedMeta | undefined {
    const r = decodeEnvelope(payload)
    if (!r.ok) {
      this.current.countInvalid(r.reason)
      if (r.reason === 'no-metadata') this.probe.offer(payload)
      return undefined
    }
    return this.onMeta(r.meta, recvUs, undefined, lane) ? r.meta : undefined
  }

  /**
   * Records decoded metadata (and an external flow's leg stamps); false when not this run's.
   * `lane` is the fan-out subscriber (0 otherwise): each has its own sequences, so a message is a
   * duplicate only when the same subscriber got it twice; per-device and per-group figures are lane 0's.
   */
  onMeta(m: DecodedMeta, recvUs: number, legs?: ExternalLegStamps, lane = 0): boolean {
    if (m.tag !== this.tag || (m.run !== undefined && m.run !== this.runId)) {
      this.current.countInvalid('foreign-run')
      return false
    }
    const verdict = this.sequences.see(lane === 0 ? m.dev : laneKey(m.dev, lane), m.seq)
    if (verdict === 'duplicate') {
      this.current.duplicates++
      if (lane === 0) this.devices.onDuplicate(m.dev)
      this.laneTap?.onDuplicate(lane)
      return true
    }
    if (m.warmup) {
      this.current.receivedWarmup++
      return true
    }
    this.noteMeasuredArrival(recvUs)
    if (verdict === 'late') this.current.reordered++
    const raw = recvUs - m.t
    if (lane === 0) {
      this.devices.onMeasured(m.dev, verdict === 'late', raw < 0 ? undefined : raw)
      this.groupTap?.onMeasured(m.dev, raw < 0 ? undefined : raw, recvUs - m.ti)
    }
    this.laneTap?.onMeasured(lane, verdict === 'late', raw < 0 ? undefined : raw, recvUs - m.ti)
    if (raw < 0) {
      this.current.clockSkew++
      return true
    }
    this.e2e.record(raw, recvUs - m.ti)
    if (m.hops && m.hops.length > 0) this.legRecorder.recordHops(m, recvUs)
    if (legs) this.legRecorder.recordExternal(m.t, m.ti, legs, recvUs)
    return true
  }

  /** Per leg: where its two stamps came from and whether they cross hosts (see LegHosts). */
  legs(): LegHosts[] {
    return this.legRecorder.legs()
  }

  /** Closes a second: its counters and per-stream histograms, folded into the totals. */
  rollSecond(second: number, warmup: boolean): SecondReport {
    const counters = this.current
    this.current = new Counters()
    this.total.add(counters)
    const streams: StreamSecond[] = []
    for (const [name, s] of this.streams) streams.push({ stream: name, snapshot: s.rollSecond() })
    const report: SecondReport = { second, warmup, counters, gaps: this.sequences.gaps, streams }
    if (this.lossEstimate) {
      const e2e = streams.find((s) => s.stream === STREAM.e2e)?.snapshot.raw
      if (e2e) this.lossEstimate.noteLatency(e2e.p99, e2e.count)
      report.lostEstimate = this.lossEstimate.estimate(this.clockUs())
    }
    return report
  }

  /** Measured sends so far, including the open second. */
  get sentSoFar(): number {
    return this.total.sent + this.current.sent
  }

  /** Distinct measured + warm-up messages received so far. */
  get uniqueSoFar(): number {
    return this.sequences.unique + this.unsequenced
  }

  get sentAllSoFar(): number {
    return this.total.sent + this.current.sent + this.total.sentWarmup + this.current.sentWarmup
  }
}
