import { hostname } from 'node:os'
import { type DecodedMeta, decodeEnvelope, type HopStamp, type InvalidReason, nowUs } from '@iotload/sdk'
import { Counters } from './counters.ts'
import { LatencyStream, type StreamSnapshot } from './latency-stream.ts'
import { SequenceTracker } from './sequence-tracker.ts'

/** Stream names. Legs follow the seed's strategy diagram (legs 1+3, 5, 4+2). */
export const STREAM = {
  e2e: 'e2e',
  publishAck: 'publish-ack',
  producerToBridge: 'producer-bridge',
  bridge: 'bridge',
  bridgeToConsumer: 'bridge-consumer',
} as const

/** Upper bound on the time between a send stamp and the producer's `onSent` call. */
const SEND_STAMP_MARGIN_US = 200

/** The two ends of each leg, for the cross-host marking. */
const LEG_ENDS: Record<string, { from: string; to: string }> = {
  [STREAM.publishAck]: { from: 'producer', to: 'producer' },
  [STREAM.producerToBridge]: { from: 'producer', to: 'bridge-in' },
  [STREAM.bridge]: { from: 'bridge-in', to: 'bridge-out' },
  [STREAM.bridgeToConsumer]: { from: 'bridge-out', to: 'consumer' },
  [STREAM.e2e]: { from: 'producer', to: 'consumer' },
}

/**
 * Where a leg's two stamps were taken. `crossHost` is true when they come from different hosts
 * (two clocks: the figure includes their offset), `undefined` when a host is unknown (binary
 * envelope hops, or a JSON hop without a host id).
 */
export interface LegHosts {
  stream: string
  from: string
  to: string
  fromHost: string | undefined
  toHost: string | undefined
  crossHost: boolean | undefined
}

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
  /** Sends the schedule planned in this second (its target rate, fleet-wide); set by the run. */
  targetRate?: number
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
  /** Host of iotload's in-process bridge, for hops that carry no host id of their own. */
  bridgeHost: string | undefined
  private readonly legHosts = new Map<string, LegHosts>()
  private seenInHost: string | undefined
  private seenOutHost: string | undefined
  /** Coarsest timestamp resolution seen in external-iPaaS mode (µs); undefined in envelope mode. */
  timestampResolutionUs: number | undefined
  /** External-iPaaS mode (see `useExternalTimestamps`). */
  private external = false
  private lastWarmupSendUs: number | undefined
  /** When the first measured message was handed over (its send stamp is a little earlier). */
  private firstMeasuredSendUs: number | undefined
  /** Send stamp of the latest measured send: how long the schedule really took. */
  lastMeasuredSendUs = 0
  /** Arrival of the first and latest measured messages (first arrivals only). */
  firstMeasuredRecvUs = 0
  lastMeasuredRecvUs = 0
  /** External messages without a seq (so not in the sequence tracker), counted for drain. */
  private unsequenced = 0
  /**
   * External messages whose timestamp cannot tell warm-up from measured (sent within one resolution
   * step of the last warm-up send); counted as measured, so `received` may exceed `sent` by this much.
   */
  externalAmbiguous = 0

  constructor(
    readonly runId: string,
    private readonly tag: number,
    private readonly onStatus?: (status: string) => void,
    /** When a send call returned; injectable so the warm-up boundary logic tests deterministically. */
    private readonly clockUs: () => number = nowUs,
  ) {
    this.e2e = this.stream(STREAM.e2e, true)
  }

  /**
   * Switches to external-iPaaS timestamps before anything is recorded: warm-up is then told apart
   * by send times, and e2e has no corrected twin (a foreign message carries no intended time).
   */
  useExternalTimestamps(): void {
    this.external = true
    this.streams.delete(STREAM.e2e)
    this.e2e = this.stream(STREAM.e2e, false)
  }

  /** Messages are measured from an external iPaaS's timestamps. */
  get externalMode(): boolean {
    return this.external
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
    if (warmup) {
      this.current.sentWarmup++
      if (this.external) this.lastWarmupSendUs = this.clockUs()
    } else {
      this.current.sent++
      if (tUs > this.lastMeasuredSendUs) this.lastMeasuredSendUs = tUs
      if (this.external && this.firstMeasuredSendUs === undefined) this.firstMeasuredSendUs = this.clockUs()
    }
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
    if (m.hops && m.hops.length > 0) this.recordLegs(m, recvUs)
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
    if (this.timestampResolutionUs === undefined || resolutionUs > this.timestampResolutionUs)
      this.timestampResolutionUs = resolutionUs
    let verdict: ReturnType<SequenceTracker['see']> | undefined
    if (seq !== undefined) {
      verdict = this.sequences.see(dev ?? 0, seq)
      if (verdict === 'duplicate') {
        this.current.duplicates++
        return
      }
    } else this.unsequenced++
    const boundary = this.lastWarmupSendUs
    if (boundary !== undefined && tUs <= boundary) {
      // Every warm-up send time precedes `boundary`, every measured one follows it. The true send
      // time lies in [tUs, tUs + resolution); before the first measured send anything is warm-up.
      const first = this.firstMeasuredSendUs
      if (
        first === undefined ||
        tUs + resolutionUs <= boundary ||
        // No measured send within one resolution step of the boundary: nothing measured is this early.
        first - SEND_STAMP_MARGIN_US - boundary >= resolutionUs
      ) {
        this.current.receivedWarmup++
        return
      }
      this.externalAmbiguous++
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

  /** Legs between hop stamps; a negative leg (two unsynchronised clocks) is skipped, never clamped. */
  private recordLegs(m: DecodedMeta, recvUs: number): void {
    const hops = m.hops!
    const first = hops[0]!
    const last = hops[hops.length - 1]!
    const toBridge = first.in - m.t
    if (toBridge >= 0) this.stream(STREAM.producerToBridge, true).record(toBridge, first.in - m.ti)
    let processing = 0
    for (const h of hops) processing += h.out - h.in
    this.stream(STREAM.bridge).record(processing)
    const toConsumer = recvUs - last.out
    if (toConsumer >= 0) this.stream(STREAM.bridgeToConsumer).record(toConsumer)
    // Hosts rarely change within a run: only a new pair is worth the bookkeeping.
    if (this.legHosts.size === 0 || first.host !== this.seenInHost || last.host !== this.seenOutHost) {
      this.seenInHost = first.host
      this.seenOutHost = last.host
      this.noteHosts(first, last)
    }
  }

  private noteHosts(first: HopStamp, last: HopStamp): void {
    const inHost = first.host ?? this.bridgeHost
    const outHost = last.host ?? this.bridgeHost
    this.noteLeg(STREAM.publishAck, this.host, this.host)
    this.noteLeg(STREAM.producerToBridge, this.host, inHost)
    this.noteLeg(STREAM.bridge, inHost, outHost)
    this.noteLeg(STREAM.bridgeToConsumer, outHost, this.host)
    this.noteLeg(STREAM.e2e, this.host, this.host)
  }

  private noteLeg(stream: string, fromHost: string | undefined, toHost: string | undefined): void {
    const known = fromHost !== undefined && toHost !== undefined
    const prev = this.legHosts.get(stream)
    // Once a leg has crossed hosts it stays marked, whatever later messages show.
    if (prev && (prev.crossHost === true || (!known && prev.crossHost !== undefined))) return
    const ends = LEG_ENDS[stream]!
    this.legHosts.set(stream, {
      stream,
      ...ends,
      fromHost,
      toHost,
      crossHost: known ? fromHost !== toHost : undefined,
    })
  }

  /** Per leg: where its two stamps came from and whether they cross hosts (see LegHosts). */
  legs(): LegHosts[] {
    if (this.legHosts.size === 0) this.noteLeg(STREAM.e2e, this.host, this.host)
    return [...this.legHosts.values()].filter((l) => this.streams.has(l.stream))
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
