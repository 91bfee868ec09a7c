import { performance } from 'node:perf_hooks'

/**
 * Wall-clock time in integer microseconds since the Unix epoch.
 *
 * `performance.timeOrigin + performance.now()` is monotonic within a process and has sub-µs
 * resolution, unlike `Date.now()`; every timestamp iotload compares comes from here, so two
 * stamps taken in one process can never produce a negative latency.
 */
export function nowUs(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000)
}

/** Monotonic microseconds with an arbitrary origin, for measuring durations only. */
export function monoUs(): number {
  return performance.now() * 1000
}
