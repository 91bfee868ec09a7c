import type { ProducerConfig } from '../scenario/schema.ts'

/** One stage of a load shape: reach `target` (fleet-wide sends/s) over `durationMs`. */
export interface RateStage {
  durationMs: number
  /** Sends per second at the end of the stage (fleet-wide). */
  target: number
  /** `linear`: from the previous rate to `target` across the stage; `step`: `target` from its start. */
  ramp: 'linear' | 'step'
}

/** A stretch of the curve where the rate changes linearly, µs since the schedule started. */
interface Segment {
  startUs: number
  endUs: number
  fromRate: number
  toRate: number
  /** Sends planned before this segment starts (the integral up to `startUs`). */
  before: number
}

/**
 * A fleet's send rate over time, piecewise linear: a constant rate, or k6-style stages. The open
 * loop follows it exactly: send n (0-based) is due when the integral of the rate reaches n, so a
 * ramp shows in the intended send times (and coordinated-omission correction keeps working).
 * Times are µs since the schedule started; rates are sends per second.
 */
export class RateCurve {
  readonly durationUs: number
  /** Sends planned over the whole curve (the integral, not rounded). */
  readonly total: number
  /** Highest rate anywhere on the curve. */
  readonly peak: number
  private readonly segments: Segment[]
  /** The one rate of a constant curve, for exact arithmetic on the common case. */
  private readonly constantRate: number | undefined
  /** Last segment a lookup landed in: the scheduler asks in increasing order. */
  private hint = 0

  private constructor(segments: Array<Omit<Segment, 'before'>>, constantRate?: number) {
    let before = 0
    this.segments = segments.map((s) => {
      const seg = { ...s, before }
      before += ((s.fromRate + s.toRate) / 2) * ((s.endUs - s.startUs) / 1e6)
      return seg
    })
    this.total = before
    this.durationUs = segments.length > 0 ? segments[segments.length - 1]!.endUs : 0
    this.peak = Math.max(0, ...segments.flatMap((s) => [s.fromRate, s.toRate]))
    this.constantRate = constantRate
  }

  /** `rate` sends/s for `durationUs`. */
  static constant(rate: number, durationUs: number): RateCurve {
    return new RateCurve([{ startUs: 0, endUs: durationUs, fromRate: rate, toRate: rate }], rate)
  }

  /**
   * Stages in order. A linear stage ramps from the rate the previous one ended at (`startRate`
   * for the first, 0 by default, as k6's ramping-arrival-rate does); a step stage holds its target.
   */
  static fromStages(stages: readonly RateStage[], startRate = 0): RateCurve {
    let t = 0
    let rate = startRate
    const segments = stages.map((s) => {
      const seg = {
        startUs: t,
        endUs: t + s.durationMs * 1000,
        fromRate: s.ramp === 'step' ? s.target : rate,
        toRate: s.target,
      }
      t = seg.endUs
      rate = s.target
      return seg
    })
    return new RateCurve(segments)
  }

  /** The rate at `tUs` (the later stage's at a boundary; 0 outside the curve). */
  rateAt(tUs: number): number {
    if (this.constantRate !== undefined) return tUs >= 0 && tUs < this.durationUs ? this.constantRate : 0
    const s = this.segments.find((g) => tUs >= g.startUs && tUs < g.endUs)
    if (!s) return 0
    return s.fromRate + ((s.toRate - s.fromRate) * (tUs - s.startUs)) / (s.endUs - s.startUs)
  }

  /** Sends planned in [0, tUs): the integral of the rate, clamped to the curve. */
  integral(tUs: number): number {
    if (tUs <= 0) return 0
    if (tUs >= this.durationUs) return this.total
    if (this.constantRate !== undefined) return (this.constantRate * tUs) / 1e6
    let lo = 0
    let hi = this.segments.length - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1
      if (this.segments[mid]!.startUs <= tUs) lo = mid
      else hi = mid - 1
    }
    const s = this.segments[lo]!
    const tau = tUs - s.startUs
    const slope = (s.toRate - s.fromRate) / (s.endUs - s.startUs)
    return s.before + (s.fromRate * tau + (slope * tau * tau) / 2) / 1e6
  }

  /** Mean rate over [fromUs, toUs), sends/s; the constant rate itself for a constant curve. */
  meanRate(fromUs: number, toUs: number): number {
    if (this.constantRate !== undefined) return this.constantRate
    if (toUs <= fromUs) return 0
    return ((this.integral(toUs) - this.integral(fromUs)) * 1e6) / (toUs - fromUs)
  }

  /** Whole sends the schedule makes: those due strictly before the end. */
  get planned(): number {
    return Math.max(0, Math.ceil(this.total - 1e-9))
  }

  /** When send `n` is due, µs since the start (fractional); Infinity past the curve. */
  timeOf(n: number): number {
    if (this.constantRate !== undefined) return n < this.total ? (n * 1e6) / this.constantRate : Infinity
    const s = this.segmentFor(n)
    if (!s) return Infinity
    const dueIn = (n - s.before) * 1e6
    if (dueIn <= 0) return s.startUs
    const k = (s.toRate - s.fromRate) / (2 * (s.endUs - s.startUs))
    // Solves fromRate·τ + k·τ² = dueIn; this form has no cancellation and covers k = 0.
    const tau =
      k === 0 ? dueIn / s.fromRate : (2 * dueIn) / (s.fromRate + Math.sqrt(s.fromRate ** 2 + 4 * k * dueIn))
    return Math.min(s.startUs + tau, s.endUs)
  }

  /** Sends due by `tUs` (n with timeOf(n) ≤ tUs), at most `planned`. */
  dueBy(tUs: number): number {
    if (tUs < 0) return 0
    const n = Math.min(this.planned, Math.floor(this.integral(tUs) + 1e-9) + 1)
    // In a zero-rate stretch the integral sits on a whole number whose send waits for the rate.
    return n > 0 && this.timeOf(n - 1) > tUs ? n - 1 : n
  }

  private segmentFor(n: number): Segment | undefined {
    const segs = this.segments
    const h = segs[this.hint]
    if (h && n >= h.before && n < this.endCount(this.hint)) return h
    // The last segment starting at or below n: a zero-rate stretch plans nothing, so among segments
    // with the same count before them the last one is where send n falls.
    let lo = 0
    let hi = segs.length - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1
      if (segs[mid]!.before <= n) lo = mid
      else hi = mid - 1
    }
    if (n < 0 || n >= this.endCount(lo)) return undefined
    this.hint = lo
    return segs[lo]
  }

  private endCount(i: number): number {
    const next = this.segments[i + 1]
    return next ? next.before : this.total
  }
}

/** The fleet's rate curve of a producer section: its stages, or its constant rate, over warm-up and duration. */
export function producerCurve(p: ProducerConfig): RateCurve {
  return p.stages
    ? RateCurve.fromStages(
        p.stages.map((st) => ({ durationMs: st.duration, target: st.target, ramp: st.ramp })),
      )
    : RateCurve.constant(p.totalRate ?? (p.rate ?? 0) * p.devices, (p.warmup + p.duration) * 1000)
}

/** The fleet's target over the measured part (after warm-up): the rate, or the stages' mean. */
export function measuredTargetRate(p: ProducerConfig): number {
  return producerCurve(p).meanRate(p.warmup * 1000, (p.warmup + p.duration) * 1000)
}
