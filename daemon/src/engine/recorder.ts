import type { DecodedMeta } from '@iotload/sdk'
import type { CorrelationTable } from './correlation-table.ts'
import type { DeviceFigure } from './device-figures.ts'
import type { ExternalArrival } from './external-decode.ts'
import { LossEstimate } from './loss-estimate.ts'
import { RecorderCore } from './recorder-core.ts'
import { ExternalTimestamps } from './recorder-external.ts'
import { recorderHints } from './recorder-hints.ts'
import { STREAM } from './recorder-legs.ts'
import type { SequenceTracker } from './sequence-tracker.ts'

export type { ExternalVia, SecondReport, StreamSecond } from './recorder-core.ts'
export { type LegHosts, STREAM } from './recorder-legs.ts'

/**
 * Turns decoded messages into latency streams and counters. Owned by one run; the consumer hot
 * path calls `onPayload` (iotload's envelope) or `onExternal` (`consumer.external`: an external
 * flow's messages), the producer `onSent`/`onPublishAck`/`onPublishError`.
 */
export class RunRecorder extends RecorderCore {
  /**
   * Switches to external-iPaaS timestamps before anything is recorded: warm-up is then told apart
   * by send times (or seqs), and e2e has no corrected twin (a foreign message has no intended time).
   * @param sequenced arrivals carry device and seq; without, a per-second loss estimate is kept
   * @param withDevice arrivals carry the device: per-device figures can be kept
   */
  useExternalTimestamps(sequenced = false, withDevice = sequenced): void {
    this.devicesKnown = withDevice
    this.external = new ExternalTimestamps()
    this.externalVia = 'timestamp'
    if (!sequenced) this.lossEstimate = new LossEstimate()
    this.streams.delete(STREAM.e2e)
    this.e2e = this.stream(STREAM.e2e, false)
  }

  /** Matches `{msgid}` ids against the send times the producer notes in `table`. */
  useCorrelation(table: CorrelationTable): void {
    this.correlation = table
    this.externalVia = 'correlation'
  }

  /** Records one message of an external flow, decoded as `consumer.external` says. */
  onExternal(a: ExternalArrival, recvUs: number): DecodedMeta | undefined {
    if (a.kind === 'invalid') this.current.countInvalid(a.reason)
    else if (a.kind === 'envelope') return this.onMeta(a.meta, recvUs, a.legs) ? a.meta : undefined
    else if (a.kind === 'correlation') return this.onCorrelated(a, recvUs)
    else this.onTimestamp(a, recvUs)
    return undefined
  }

  /** Returns the metadata rebuilt from the producer's table (for tracing) when the send was found. */
  private onCorrelated(
    a: Extract<ExternalArrival, { kind: 'correlation' }>,
    recvUs: number,
  ): DecodedMeta | undefined {
    if (a.run !== this.runId) {
      this.current.countInvalid('foreign-run')
      return undefined
    }
    const warmup = this.devices.isWarmupSeq(a.dev, a.seq)
    if (warmup === undefined) {
      // This run's id for a send that never happened: garbled on the way.
      this.current.countInvalid('bad-metadata')
      return undefined
    }
    const send = this.correlation?.get(a.dev, a.seq)
    if (send) {
      const meta = { run: a.run, tag: this.tag, dev: a.dev, seq: a.seq, t: send.tUs, ti: send.tiUs, warmup }
      return this.onMeta(meta, recvUs, a.legs) ? meta : undefined
    }
    // The slot was reused: the message counts (device and seq are in the id), its latency is unknown.
    const verdict = this.sequences.see(a.dev, a.seq)
    if (verdict === 'duplicate') {
      this.current.duplicates++
      this.devices.onDuplicate(a.dev)
    } else if (warmup) this.current.receivedWarmup++
    else {
      this.correlationExpired++
      this.noteMeasuredArrival(recvUs)
      if (verdict === 'late') this.current.reordered++
      this.devices.onMeasured(a.dev, verdict === 'late', undefined)
    }
    return undefined
  }

  /**
   * A copied timestamp, maybe with device and seq. Stale timestamps (before this run's first send)
   * are invalid. With a seq, duplicates and warm-up are exact; without, warm-up is told by send
   * time and no more arrivals are measured than were sent (the excess are duplicates).
   */
  private onTimestamp(a: Extract<ExternalArrival, { kind: 'timestamp' }>, recvUs: number): void {
    const external = this.external ?? new ExternalTimestamps()
    this.external = external
    if (external.isStale(a.tUs, a.resolutionUs)) {
      this.current.countInvalid('stale')
      return
    }
    let verdict: ReturnType<SequenceTracker['see']> | undefined
    let warmup: boolean | undefined
    const dev = a.dev ?? 0
    if (a.seq !== undefined) {
      warmup = this.devices.isWarmupSeq(dev, a.seq)
      if (warmup === undefined) {
        this.current.countInvalid('foreign-run')
        return
      }
      verdict = this.sequences.see(dev, a.seq)
      if (verdict === 'duplicate') {
        this.current.duplicates++
        this.devices.onDuplicate(dev)
        return
      }
    }
    if (warmup === undefined) warmup = external.classify(a.tUs, a.resolutionUs) === 'warmup'
    else external.classify(a.tUs, a.resolutionUs) // notes the resolution
    if (!warmup && verdict === undefined && this.total.received + this.current.received >= this.sentSoFar) {
      // More measured arrivals than measured sends: without seqs this one must be a copy.
      this.current.duplicates++
      return
    }
    if (a.seq === undefined) this.unsequenced++
    this.lossEstimate?.onArrival(a.tUs)
    if (warmup) {
      this.current.receivedWarmup++
      return
    }
    this.noteMeasuredArrival(recvUs)
    if (verdict === 'late') this.current.reordered++
    const raw = recvUs - a.tUs
    if (a.dev !== undefined) this.devices.onMeasured(a.dev, verdict === 'late', raw < 0 ? undefined : raw)
    if (raw < 0) {
      this.current.clockSkew++
      return
    }
    this.e2e.record(raw)
    if (a.legs) this.legRecorder.recordExternal(a.tUs, undefined, a.legs, recvUs)
  }

  /** Every device's figures; `sequenced` splits missing messages into lost and undelivered. */
  deviceFigures(): DeviceFigure[] {
    if (!this.devicesKnown) return []
    return this.devices.figures(this.lossEstimate ? undefined : this.sequences)
  }

  /** What the user may want to change, from what was seen (see recorderHints). */
  hints(): string[] {
    const t = this.total
    return recorderHints({
      received: t.received + t.receivedWarmup,
      noMetadata: t.invalidByReason['no-metadata'] ?? 0,
      probe: this.probe,
      legsConfigured: this.legPaths,
      legStamps: this.legRecorder.externalStamps,
      valid: t.received + t.receivedWarmup + t.duplicates,
      correlationExpired: this.correlationExpired,
      perDevice: this.correlation?.perDevice,
    })
  }
}
