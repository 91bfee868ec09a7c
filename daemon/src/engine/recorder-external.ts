/** Upper bound on the time between a send stamp and the producer's `onSent` call. */
const SEND_STAMP_MARGIN_US = 200

/** Where an external timestamp puts its message, relative to the warm-up. */
export type WarmupVerdict = 'warmup' | 'measured' | 'ambiguous'

/**
 * External-iPaaS timestamps (`consumer.external.timestampPath`): their coarsest resolution, and
 * warm-up told apart by send time, since a foreign message carries no warm-up flag.
 */
export class ExternalTimestamps {
  /** Coarsest timestamp resolution seen (µs). */
  resolutionUs: number | undefined
  private lastWarmupSendUs: number | undefined
  /** When the first measured message was handed over (its send stamp is a little earlier). */
  private firstMeasuredSendUs: number | undefined
  /**
   * Messages whose timestamp cannot tell warm-up from measured (sent within one resolution step of
   * the last warm-up send); counted as measured.
   */
  ambiguous = 0

  /** A send was handed over at `clockUs`. */
  onSent(warmup: boolean, clockUs: number): void {
    if (warmup) this.lastWarmupSendUs = clockUs
    else if (this.firstMeasuredSendUs === undefined) this.firstMeasuredSendUs = clockUs
  }

  /**
   * Every warm-up send time precedes the last warm-up send, every measured one follows it. The true
   * send time lies in [tUs, tUs + resolution); before the first measured send anything is warm-up.
   */
  classify(tUs: number, resolutionUs: number): WarmupVerdict {
    if (this.resolutionUs === undefined || resolutionUs > this.resolutionUs) this.resolutionUs = resolutionUs
    const boundary = this.lastWarmupSendUs
    if (boundary === undefined || tUs > boundary) return 'measured'
    const first = this.firstMeasuredSendUs
    if (
      first === undefined ||
      tUs + resolutionUs <= boundary ||
      // No measured send within one resolution step of the boundary: nothing measured is this early.
      first - SEND_STAMP_MARGIN_US - boundary >= resolutionUs
    )
      return 'warmup'
    this.ambiguous++
    return 'ambiguous'
  }
}
