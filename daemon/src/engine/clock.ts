import { nowUs } from '@iotload/sdk'
import { clearPreciseTimeout, type PreciseTimer, setPreciseTimeout } from './precise-timer.ts'

/** A timer set through an `EngineClock`; opaque to its users. */
export type ClockTimer = object

/**
 * Time as the engine sees it: the send, acknowledgement and receive stamps, and the timers of
 * the schedule, the per-second ticker and the drain. Injectable so tests can drive time by hand
 * (`ManualClock` in ./testing); runs use `systemClock`.
 */
export interface EngineClock {
  /** Wall-clock time in µs since the Unix epoch, monotonic within the process. */
  nowUs(): number
  /** Calls `fn` once, `ms` (clamped to ≥ 0) from now. */
  setTimeout(fn: () => void, ms: number): ClockTimer
  /**
   * Calls `fn` once, `us` (clamped to ≥ 0) from now, to within ~0.1 ms and without a busy wait
   * (systemClock: a futex-sleeping thread, see precise-timer.ts).
   */
  setTimeoutUs(fn: () => void, us: number): ClockTimer
  /** Calls `fn` on the next turn, after pending I/O. */
  setImmediate(fn: () => void): ClockTimer
  /** Cancels a timer of either kind; fired, cancelled and undefined timers are ignored. */
  clearTimer(timer: ClockTimer | undefined): void
}

/** The real clock: `nowUs` from the sdk and Node's timers. */
export const systemClock: EngineClock = {
  nowUs,
  setTimeout: (fn, ms) => setTimeout(fn, Math.max(0, ms)),
  setTimeoutUs: (fn, us) => setPreciseTimeout(fn, us),
  setImmediate: (fn) => setImmediate(fn),
  clearTimer(timer) {
    if (timer === undefined) return
    if ('dueUs' in timer) return clearPreciseTimeout(timer as PreciseTimer)
    clearTimeout(timer as NodeJS.Timeout)
    clearImmediate(timer as NodeJS.Immediate)
  },
}

/** Resolves after `ms` on `clock`. */
export function sleepOn(clock: EngineClock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimeout(resolve, ms))
}
