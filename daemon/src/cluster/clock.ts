/** A clock offset estimate: add `offsetUs` to a local timestamp to get the reference clock. */
export interface ClockEstimate {
  offsetUs: number
  /** The true offset lies within offset ± uncertainty (half the round trip of the best exchange). */
  uncertaintyUs: number
  /** When it was measured (local µs). */
  atUs: number
}

/**
 * The correction applied to a latency measured between two daemons' clocks (producer stamp,
 * consumer stamp), from both daemons' offsets to the coordinator: recv + θc − (t + θp) =
 * raw + (θc − θp). An offset difference within the combined uncertainty is indistinguishable
 * from zero and would only add noise, so it is applied only when it exceeds that uncertainty.
 */
export function latencyCorrectionUs(
  consumer: Pick<ClockEstimate, 'offsetUs' | 'uncertaintyUs'>,
  producer: Pick<ClockEstimate, 'offsetUs' | 'uncertaintyUs'>,
): number {
  const d = consumer.offsetUs - producer.offsetUs
  const u = consumer.uncertaintyUs + producer.uncertaintyUs
  return Math.abs(d) > u ? d : 0
}
