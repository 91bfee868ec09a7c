/**
 * Upper bound on the time between rendering a payload's timestamp (`{iso}`, `{nowMs}`, `{now}`)
 * and the send stamp taken right after.
 */
const RENDER_MARGIN_US = 200
/**
 * A timestamp this much before the run's first send cannot be this run's (the first message is
 * rendered µs before its send stamp; the rest after it): it is a leftover, counted `stale`.
 */
const STALE_MARGIN_US = 50_000
/** Warm-up send stamps kept (the last ones), to count the warm-up sends in a timestamp step. */
const STAMPS = 1 << 18

/** Where an external timestamp puts its message. */
export type WarmupVerdict = 'warmup' | 'measured'

/** Count of values in `[lo, hi)` among the first `n` entries of an ascending array. */
function countBetween(a: Float64Array, n: number, lo: number, hi: number): number {
  const lower = (x: number) => {
    let l = 0
    let h = n
    while (l < h) {
      const m = (l + h) >>> 1
      if (a[m]! < x) l = m + 1
      else h = m
    }
    return l
  }
  return lower(hi) - lower(lo)
}

/**
 * External-iPaaS timestamps (`consumer.external.timestampPath`): their coarsest resolution, stale
 * messages, and warm-up told apart by send time, since a foreign message carries no warm-up flag.
 *
 * A timestamp coarser than the gap between sends (1 ms at 20,000 msg/s) can name warm-up and
 * measured sends at once. For such a step the sends are counted: of the arrivals stamped with it,
 * as many are warm-up as warm-up sends fell into the step, the rest are measured. The send stamps
 * come from the same clock the schedule runs on, so the split follows the schedule exactly, and
 * never more arrivals are measured than were sent (the recorder caps the total as well).
 */
export class ExternalTimestamps {
  /** Coarsest timestamp resolution seen (µs). */
  resolutionUs: number | undefined
  private firstSendUs: number | undefined
  private lastWarmupSendUs: number | undefined
  private firstMeasuredSendUs: number | undefined
  /** The last `STAMPS` warm-up send stamps (a ring, ascending from `warmupHead`). */
  private warmupStamps: Float64Array | undefined
  private warmupCount = 0
  /** Arrivals split so far per ambiguous step: how many went to warm-up. */
  private readonly stepWarmups = new Map<number, number>()
  /** Arrivals whose step held warm-up and measured sends both (split by count). */
  ambiguous = 0
  /** How far a send stamp may lie after the time its payload rendered. */
  private marginUs = RENDER_MARGIN_US

  /**
   * A send was stamped `tUs` (the clock is monotonic: stamps ascend). `exact`: `tUs` is the very
   * time the payload rendered, so a copied timestamp falls in the step it names with no margin.
   */
  onSent(warmup: boolean, tUs: number, exact = false): void {
    if (exact) this.marginUs = 0
    this.firstSendUs ??= tUs
    if (warmup) {
      this.lastWarmupSendUs = tUs
      this.warmupStamps ??= new Float64Array(STAMPS)
      this.warmupStamps[this.warmupCount % STAMPS] = tUs
      this.warmupCount++
      return
    }
    this.firstMeasuredSendUs ??= tUs
  }

  /** Before this run's first send: a leftover of an earlier run (or another producer). */
  isStale(tUs: number, resolutionUs: number): boolean {
    const first = this.firstSendUs
    return first === undefined || tUs + resolutionUs + STALE_MARGIN_US <= first
  }

  /** Warm-up or measured, for a message whose send time lies in [tUs, tUs + resolution). */
  classify(tUs: number, resolutionUs: number): WarmupVerdict {
    if (this.resolutionUs === undefined || resolutionUs > this.resolutionUs) this.resolutionUs = resolutionUs
    const lastWarmup = this.lastWarmupSendUs
    if (lastWarmup === undefined || tUs > lastWarmup) return 'measured'
    const first = this.firstMeasuredSendUs
    const hi = tUs + resolutionUs + this.marginUs
    if (first === undefined || hi <= first) {
      // Counted against the step's warm-up sends too: while no measured send exists yet, the step
      // holding the last warm-up sends may still turn out to hold measured ones, and an arrival
      // placed now must not leave room for a measured one to be taken as warm-up later.
      if (tUs + resolutionUs > lastWarmup) this.stepWarmups.set(tUs, (this.stepWarmups.get(tUs) ?? 0) + 1)
      return 'warmup'
    }
    // The step holds both kinds: hand out its warm-up sends first, then measured ones.
    this.ambiguous++
    const warmups = this.warmupSendsIn(tUs, hi)
    const used = this.stepWarmups.get(tUs) ?? 0
    if (used < warmups) {
      this.stepWarmups.set(tUs, used + 1)
      return 'warmup'
    }
    return 'measured'
  }

  private warmupSendsIn(lo: number, hi: number): number {
    const ring = this.warmupStamps
    if (!ring) return 0
    const n = Math.min(this.warmupCount, STAMPS)
    if (this.warmupCount <= STAMPS) return countBetween(ring, n, lo, hi)
    // The ring wrapped: two ascending runs, [head, STAMPS) then [0, head).
    const head = this.warmupCount % STAMPS
    return countBetween(ring.subarray(head), STAMPS - head, lo, hi) + countBetween(ring, head, lo, hi)
  }
}
