import type { DecodedMeta, HopStamp } from '@iotload/sdk'
import type { ExternalLegStamps } from './external-decode.ts'
import type { LatencyStream } from './latency-stream.ts'

/** Stream names. Legs follow the seed's strategy diagram (legs 1+3, 5, 4+2). */
export const STREAM = {
  e2e: 'e2e',
  publishAck: 'publish-ack',
  producerToBridge: 'producer-bridge',
  bridge: 'bridge',
  bridgeToConsumer: 'bridge-consumer',
} as const

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

/** Gets (creating on first use) a named latency stream of the run. */
export type StreamOf = (name: string, corrected?: boolean) => LatencyStream

/**
 * Splits end-to-end latency into the legs between hop stamps (iotload's bridge) and remembers on
 * which hosts each leg's two stamps were taken.
 */
export class LegRecorder {
  /** Host of iotload's in-process bridge, for hops that carry no host id of their own. */
  bridgeHost: string | undefined
  private readonly legHosts = new Map<string, LegHosts>()
  private seenInHost: string | undefined
  private seenOutHost: string | undefined
  /** Messages that carried each external leg stamp, and leg values below zero (two clocks). */
  readonly externalStamps = { in: 0, out: 0, negative: 0 }

  constructor(
    /** Host id of this process: the producer's and the consumer's stamps are taken here. */
    readonly host: string,
    private readonly streamOf: StreamOf,
    private readonly hasStream: (name: string) => boolean,
  ) {}

  /** Legs between hop stamps; a negative leg (two unsynchronised clocks) is skipped, never clamped. */
  recordHops(m: DecodedMeta, recvUs: number): void {
    const hops = m.hops!
    const first = hops[0]!
    const last = hops[hops.length - 1]!
    const toBridge = first.in - m.t
    if (toBridge >= 0) this.streamOf(STREAM.producerToBridge, true).record(toBridge, first.in - m.ti)
    let processing = 0
    for (const h of hops) processing += h.out - h.in
    this.streamOf(STREAM.bridge).record(processing)
    const toConsumer = recvUs - last.out
    if (toConsumer >= 0) this.streamOf(STREAM.bridgeToConsumer).record(toConsumer)
    // Hosts rarely change within a run: only a new pair is worth the bookkeeping.
    if (this.legHosts.size === 0 || first.host !== this.seenInHost || last.host !== this.seenOutHost) {
      this.seenInHost = first.host
      this.seenOutHost = last.host
      this.noteHosts(first, last)
    }
  }

  /**
   * Legs from the stamps an external flow wrote (`consumer.external.legs`): producer → iPaaS
   * (`ipaas-in` − send), inside the iPaaS (`ipaas-out` − `ipaas-in`) and iPaaS → consumer
   * (arrival − `ipaas-out`), under the bridge's stream names. The flow's clock is not iotload's: a
   * negative leg is counted and skipped, and the iPaaS's host is unknown.
   * @param tiUs the intended send time, when known (envelope, correlation): a corrected first leg
   */
  recordExternal(tUs: number, tiUs: number | undefined, legs: ExternalLegStamps, recvUs: number): void {
    const { inUs, outUs } = legs
    const x = this.externalStamps
    if (inUs !== undefined) {
      x.in++
      const toIpaas = inUs - tUs
      if (toIpaas >= 0) {
        const s = this.streamOf(STREAM.producerToBridge, tiUs !== undefined)
        s.record(toIpaas, tiUs === undefined ? undefined : inUs - tiUs)
      } else x.negative++
    }
    if (outUs !== undefined) {
      x.out++
      const toConsumer = recvUs - outUs
      if (toConsumer >= 0) this.streamOf(STREAM.bridgeToConsumer).record(toConsumer)
      else x.negative++
    }
    if (inUs !== undefined && outUs !== undefined) {
      if (outUs >= inUs) this.streamOf(STREAM.bridge).record(outUs - inUs)
      else x.negative++
    }
    if (this.legHosts.size === 0) {
      this.noteLeg(STREAM.publishAck, this.host, this.host)
      this.noteLeg(STREAM.producerToBridge, this.host, undefined, 'ipaas-in')
      this.noteLeg(STREAM.bridge, undefined, undefined, 'ipaas-in', 'ipaas-out')
      this.noteLeg(STREAM.bridgeToConsumer, undefined, this.host, 'ipaas-out')
      this.noteLeg(STREAM.e2e, this.host, this.host)
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

  private noteLeg(
    stream: string,
    fromHost: string | undefined,
    toHost: string | undefined,
    /** The iPaaS end's name, for external legs (`ipaas-in`, `ipaas-out`). */
    ...ipaas: string[]
  ): void {
    const known = fromHost !== undefined && toHost !== undefined
    const prev = this.legHosts.get(stream)
    // Once a leg has crossed hosts it stays marked, whatever later messages show.
    if (prev && (prev.crossHost === true || (!known && prev.crossHost !== undefined))) return
    const ends = { ...LEG_ENDS[stream]! }
    if (ipaas.length > 0) {
      if (ends.from.startsWith('bridge')) ends.from = ipaas[0]!
      if (ends.to.startsWith('bridge')) ends.to = ipaas[ipaas.length - 1]!
    }
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
    return [...this.legHosts.values()].filter((l) => this.hasStream(l.stream))
  }
}
