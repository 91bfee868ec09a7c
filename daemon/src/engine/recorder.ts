import { hostname } from 'node:os'
import { type DecodedMeta, decodeEnvelope, type InvalidReason, nowUs } from '@iotload/sdk'
import { Counters } from './counters.ts'
import { LatencyStream, type StreamSnapshot } from './latency-stream.ts'
import { ExternalTimestamps } from './recorder-external.ts'
import { type LegHosts, LegRecorder, STREAM } from './recorder-legs.ts'
import { SequenceTracker } from './sequence-tracker.ts'

export { type LegHosts, STREAM } from './recorder-legs.ts'

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
  streams: StreamSecond[]
}

/**
 * Turns decoded messages into latency streams and counters. Owned by one run; the consumer hot
 * path calls `onPayload`, the producer `onSent`/`onPublishAck`/`onPublishError`.
 */
export class RunRecorder {
  readonly total = new Counters()
  private current = new Counters()
  readonly streams = new Map<string, LatencyStream>()
  readonly sequences = new SequenceTracker()
  private e2e: LatencyStream
  /** Host id of this process: the producer's and the consumer's stamps are taken here. */
  readonly host = hostname()
  private readonly legRecorder: LegRecorder
  /** External-iPaaS timestamps (see `useExternalTimestamps`); undefined in envelope mode. */
  private external: ExternalTimestamps | undefined
  /** Send stamp of the latest measured send: how long the schedule really took. */
  lastMeasuredSendUs = 0
  /** Arrival of the first and latest measured messages (first arrivals only). */
  firstMeasuredRecvUs = 0
  lastMeasuredRecvUs = 0
  /** External messages without a seq (so not in the sequence tracker), counted for drain. */
  private unsequenced = 0

  constructor(
    readonly runId: string,
    private readonly tag: number,
    private readonly onStatus?: (status: string) => void,
    /** When a send call returned; injectable so the warm-up boundary logic tests deterministically. */
    private readonly clockUs: () => number = nowUs,
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

  /**
   * Switches to external-iPaaS timestamps before anything is recorded: warm-up is then told apart
   * by send times, and e2e has no corrected twin (a foreign message carries no intended time).
   */
  useExternalTimestamps(): void {
    this.external = new ExternalTimestamps()
    this.streams.delete(STREAM.e2e)
    this.e2e = this.stream(STREAM.e2e, false)
  }

  /** Messages are measured from an external iPaaS's timestamps. */
  get externalMode(): boolean {
    return this.external !== undefined
  }

  /** Coarsest timestamp resolution seen in external-iPaaS mode (µs); undefined in envelope mode. */
  get timestampResolutionUs(): number | undefined {
    return this.external?.resolutionUs
  }

  /**
   * External messages whose timestamp cannot tell warm-up from measured (sent within one resolution
   * step of the last warm-up send); counted as measured, so `received` may exceed `sent` by this much.
   */
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

  /** A send was handed to the plugin; `tUs` is its send stamp. */
  onSent(warmup: boolean, tUs: number): void {
    if (warmup) this.current.sentWarmup++
    else {
      this.current.sent++
      if (tUs > this.lastMeasuredSendUs) this.lastMeasuredSendUs = tUs
    }
    this.external?.onSent(warmup, this.clockUs())
  }

  /** First arrivals of measured messages bound the window the receive rate is computed over. */
  private noteMeasuredArrival(recvUs: number): void {
    this.current.received++
    if (this.firstMeasuredRecvUs === 0) this.firstMeasuredRecvUs = recvUs
    this.lastMeasuredRecvUs = recvUs
  }

  onPublishAck(latencyUs: number, warmup: boolean): void {
    if (!warmup) this.stream(STREAM.publishAck).record(latencyUs)
  }

  onPublishError(): void {
    this.current.publishErrors++
  }

  onConnectionStatus(status: string): void {
    if (status === 'disconnected') this.current.disconnects++
    else if (status === 'reconnected') this.current.reconnects++
    this.onStatus?.(status)
  }

  onInvalid(reason: InvalidReason): void {
    this.current.countInvalid(reason)
  }

  /**
   * Decodes and records one received payload; `recvUs` was stamped before anything else ran.
   * Returns the metadata of a valid own-run message (for tracing), else undefined.
   */
  onPayload(payload: Uint8Array, recvUs: number): DecodedMeta | undefined {
    const r = decodeEnvelope(payload)
    if (!r.ok) {
      this.current.countInvalid(r.reason)
      return undefined
    }
    return this.onMeta(r.meta, recvUs) ? r.meta : undefined
  }

  /** Records decoded metadata; false when the message is not this run's. */
  onMeta(m: DecodedMeta, recvUs: number): boolean {
    if (m.tag !== this.tag || (m.run !== undefined && m.run !== this.runId)) {
      this.current.countInvalid('foreign-run')
      return false
    }
    const verdict = this.sequences.see(m.dev, m.seq)
    if (verdict === 'duplicate') {
      this.current.duplicates++
      return true
    }
    if (m.warmup) {
      this.current.receivedWarmup++
      return true
    }
    this.noteMeasuredArrival(recvUs)
    if (verdict === 'late') this.current.reordered++
    const raw = recvUs - m.t
    if (raw < 0) {
      this.current.clockSkew++
      return true
    }
    this.e2e.record(raw, recvUs - m.ti)
    if (m.hops && m.hops.length > 0) this.legRecorder.recordHops(m, recvUs)
    return true
  }

  /**
   * Records a message from an external iPaaS (`consumer.external`): only an origin timestamp, and
   * maybe device and seq. Without a seq there is no duplicate or reorder detection, and warm-up is
   * told apart by comparing the timestamp with the last warm-up send (ambiguous ones count as measured).
   */
  onExternal(
    tUs: number,
    resolutionUs: number,
    dev: number | undefined,
    seq: number | undefined,
    recvUs: number,
  ): void {
    const external = this.external ?? new ExternalTimestamps()
    this.external = external
    let verdict: ReturnType<SequenceTracker['see']> | undefined
    if (seq !== undefined) {
      verdict = this.sequences.see(dev ?? 0, seq)
      if (verdict === 'duplicate') {
        this.current.duplicates++
        return
      }
    } else this.unsequenced++
    if (external.classify(tUs, resolutionUs) === 'warmup') {
      this.current.receivedWarmup++
      return
    }
    this.noteMeasuredArrival(recvUs)
    if (verdict === 'late') this.current.reordered++
    const raw = recvUs - tUs
    if (raw < 0) {
      this.current.clockSkew++
      return
    }
    this.e2e.record(raw)
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
    return { second, warmup, counters, gaps: this.sequences.gaps, streams }
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
