import { type EngineClock, sleepOn, systemClock } from './clock.ts'

/** Options for `connectAll`. */
export interface ConnectAllOptions {
  /** Stops starting new attempts once aborted. */
  signal?: AbortSignal
  /**
   * Attempts started per second: attempt i starts no earlier than i/rate after the first, a steady
   * ramp (still at most `concurrency` at once). As fast as `concurrency` allows when absent.
   */
  ratePerS?: number
  /** Paces the ramp and times each attempt. @default systemClock */
  clock?: EngineClock
  /** Each attempt's duration in µs, and its error when it failed. */
  onAttempt?: (index: number, elapsedUs: number, error?: unknown) => void
}

/**
 * Runs `open(i)` for i in [0, count) with at most `concurrency` in flight, collecting results
 * and failures separately (a few bad devices must not hide behind one rejected Promise.all).
 */
export async function connectAll<T>(
  count: number,
  concurrency: number,
  open: (i: number) => Promise<T>,
  options: ConnectAllOptions = {},
): Promise<{ ok: Array<T | undefined>; failures: Array<{ index: number; error: unknown }> }> {
  const { signal, ratePerS, onAttempt } = options
  const clock = options.clock ?? systemClock
  const ok: Array<T | undefined> = new Array(count)
  const failures: Array<{ index: number; error: unknown }> = []
  const startUs = clock.nowUs()
  let next = 0
  const worker = async () => {
    while (next < count && !signal?.aborted) {
      const i = next++
      if (ratePerS !== undefined) {
        const waitMs = (startUs + (i * 1e6) / ratePerS - clock.nowUs()) / 1000
        if (waitMs > 0) await sleepOn(clock, waitMs)
        if (signal?.aborted) return
      }
      const t0 = clock.nowUs()
      try {
        ok[i] = await open(i)
        onAttempt?.(i, clock.nowUs() - t0)
      } catch (error) {
        failures.push({ index: i, error })
        onAttempt?.(i, clock.nowUs() - t0, error)
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker))
  return { ok, failures }
}
