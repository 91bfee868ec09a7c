import { type DecodedMeta, decodeEnvelope, type InvalidReason } from '@iotload/sdk'
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
  private readonly e2e: LatencyStream

  constructor(
    readonly runId: string,
    private readonly tag: number,
    private readonly onStatus?: (status: string) => void,
  ) {
    this.e2e = this.stream(STREAM.e2e, true)
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

  onSent(warmup: boolean): void {
    if (warmup) this.current.sentWarmup++
    else this.current.sent++
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
    this.current.received++
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

  private recordLegs(m: DecodedMeta, recvUs: number): void {
    const hops = m.hops!
    const first = hops[0]!
    const last = hops[hops.length - 1]!
    this.stream(STREAM.producerToBridge, true).record(first.in - m.t, first.in - m.ti)
    let processing = 0
    for (const h of hops) processing += h.out - h.in
    this.stream(STREAM.bridge).record(processing)
    this.stream(STREAM.bridgeToConsumer).record(recvUs - last.out)
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
    return this.sequences.unique
  }

  get sentAllSoFar(): number {
    return this.total.sent + this.current.sent + this.total.sentWarmup + this.current.sentWarmup
  }
}
