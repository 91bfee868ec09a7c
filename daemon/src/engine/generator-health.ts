import { monitorEventLoopDelay } from 'node:perf_hooks'
import { LatencyHistogram } from './histogram.ts'

/** Sampling interval of the event-loop delay monitor, ms. */
const ELD_RESOLUTION_MS = 10

function eldUs(ns: number): number {
  return Number.isFinite(ns) ? Math.max(0, Math.round(ns / 1000)) : 0
}

/**
 * Node's monitor as a delay source. It records the whole interval between its timer's runs,
 * sampling interval included (an idle loop reads p50 ≈ 10 ms at a 10 ms resolution): the delay is
 * what exceeds the interval, so that is what this source reports.
 */
export function nodeEventLoopDelay(resolutionMs = ELD_RESOLUTION_MS): EventLoopDelaySource {
  const h = monitorEventLoopDelay({ resolution: resolutionMs })
  const less = (ns: number) => Math.max(0, ns - resolutionMs * 1e6)
  return {
    enable: () => h.enable(),
    disable: () => h.disable(),
    reset: () => h.reset(),
    percentile: (p) => less(h.percentile(p)),
    get max() {
      return less(h.max)
    },
  }
}

/** Limits beyond which the tool itself, not the system under test, is the bottleneck. */
export interface GeneratorLimits {
  maxLagUs: number
  maxEventLoopDelayUs: number
  maxInFlight: number
}

/**
 * Where event-loop delay comes from: Node's `monitorEventLoopDelay` histogram (values in ns), or a
 * stand-in a test fills with known delays.
 */
export interface EventLoopDelaySource {
  enable(): unknown
  disable(): unknown
  reset(): void
  percentile(p: number): number
  readonly max: number
}

/** Options for `GeneratorHealth`. */
export interface GeneratorHealthOptions {
  /** @default nodeEventLoopDelay() */
  eventLoopDelay?: EventLoopDelaySource
  /** Reset every second, for the per-second figures. @default nodeEventLoopDelay() */
  secondEventLoopDelay?: EventLoopDelaySource
}

/** The generator's figures for one second (µs), stored with the second's row for the report. */
export interface GeneratorSecond {
  lagP99Us: number
  lagMaxUs: number
  eventLoopDelayP99Us: number
  eventLoopDelayMaxUs: number
  /** Most publishes awaiting their ack at once during the second. */
  inFlightPeak: number
}

/** The generator's self-assessment, reported with every result. */
export interface GeneratorReport {
  limited: boolean
  reasons: string[]
  lagUs: { p50: number; p99: number; max: number }
  /** Lag p99 over the last tenth of the schedule: growth here means the generator fell behind for good. */
  finalLagP99Us: number
  /**
   * Lag p50 over the last tenth: a generator that fell behind for good lags on most of its final
   * sends, a brief stall (another process on a shared machine) only on a few. Absent in reports of older versions.
   */
  finalLagP50Us?: number
  eventLoopDelayUs: { p50: number; p99: number; max: number }
  inFlightPeak: number
  targetRate: number
  achievedSendRate: number
}

/** Tracks send lag (actual − intended), event-loop delay and publish backlog for one producer. */
export class GeneratorHealth {
  readonly lag = new LatencyHistogram(64)
  readonly finalLag = new LatencyHistogram(64)
  private readonly eld: EventLoopDelaySource
  private readonly secondLag = new LatencyHistogram(64)
  private readonly secondEld: EventLoopDelaySource
  private secondInFlightPeak = 0
  inFlight = 0
  inFlightPeak = 0

  constructor(
    private readonly limits: GeneratorLimits,
    options: GeneratorHealthOptions = {},
  ) {
    this.eld = options.eventLoopDelay ?? nodeEventLoopDelay()
    this.secondEld = options.secondEventLoopDelay ?? nodeEventLoopDelay()
  }

  start(): void {
    this.eld.enable()
    this.secondEld.enable()
  }

  stop(): void {
    this.eld.disable()
    this.secondEld.disable()
  }

  /** The figures of the second just ended (warm-up included), and a fresh start for the next. */
  rollSecond(): GeneratorSecond {
    const lag = this.secondLag.stats()
    const out: GeneratorSecond = {
      lagP99Us: lag.p99,
      lagMaxUs: lag.max,
      eventLoopDelayP99Us: eldUs(this.secondEld.percentile(99)),
      eventLoopDelayMaxUs: eldUs(this.secondEld.max),
      inFlightPeak: Math.max(this.secondInFlightPeak, this.inFlight),
    }
    this.secondLag.reset()
    this.secondEld.reset()
    this.secondInFlightPeak = this.inFlight
    return out
  }

  /** Forgets event-loop delay seen so far (called when warm-up ends). */
  resetEventLoopDelay(): void {
    this.eld.reset()
  }

  /** Records one send's lag; `final` marks sends in the last tenth of the schedule. */
  recordLag(lagUs: number, final: boolean): void {
    this.lag.record(lagUs)
    this.secondLag.record(lagUs)
    if (final) this.finalLag.record(lagUs)
  }

  /** A warm-up send's lag: in the per-second figures only, never in the verdict. */
  recordWarmupLag(lagUs: number): void {
    this.secondLag.record(lagUs)
  }

  publishStarted(): void {
    if (++this.inFlight > this.inFlightPeak) this.inFlightPeak = this.inFlight
    if (this.inFlight > this.secondInFlightPeak) this.secondInFlightPeak = this.inFlight
  }

  publishSettled(): void {
    this.inFlight--
  }

  report(targetRate: number, achievedSendRate: number): GeneratorReport {
    const lag = this.lag.stats()
    const finalLag = this.finalLag.stats()
    const eld = {
      p50: eldUs(this.eld.percentile(50)),
      p99: eldUs(this.eld.percentile(99)),
      max: eldUs(this.eld.max),
    }
    const reasons: string[] = []
    if (lag.p99 > this.limits.maxLagUs)
      reasons.push(`send lag p99 ${fmt(lag.p99)} > ${fmt(this.limits.maxLagUs)}`)
    if (finalLag.p99 > this.limits.maxLagUs)
      reasons.push(`send lag still ${fmt(finalLag.p99)} (p99) at the end of the schedule`)
    if (eld.p99 > this.limits.maxEventLoopDelayUs) {
      reasons.push(`event-loop delay p99 ${fmt(eld.p99)} > ${fmt(this.limits.maxEventLoopDelayUs)}`)
    }
    if (this.inFlightPeak > this.limits.maxInFlight)
      reasons.push(`publish backlog peaked at ${this.inFlightPeak} in flight`)
    if (targetRate > 0 && achievedSendRate < targetRate * 0.99) {
      reasons.push(
        `achieved send rate ${achievedSendRate.toFixed(1)}/s < 99% of target ${targetRate.toFixed(1)}/s`,
      )
    }
    return {
      limited: reasons.length > 0,
      reasons,
      lagUs: { p50: lag.p50, p99: lag.p99, max: lag.max },
      finalLagP99Us: finalLag.p99,
      finalLagP50Us: finalLag.p50,
      eventLoopDelayUs: eld,
      inFlightPeak: this.inFlightPeak,
      targetRate,
      achievedSendRate,
    }
  }
}

function fmt(us: number): string {
  return us >= 1000 ? `${(us / 1000).toFixed(1)}ms` : `${us}µs`
}
