import type { EventLoopDelaySource } from '../generator-health.ts'

/**
 * An event-loop delay source with fixed figures (given in µs, reported in ns like Node's
 * histogram) that records how it was driven, so a test's verdict does not depend on how busy the
 * machine running it is.
 */
export function fixedEventLoopDelay(
  p50Us = 10,
  p99Us = 100,
  maxUs = 200,
): EventLoopDelaySource & { calls: string[] } {
  const calls: string[] = []
  return {
    calls,
    enable: () => calls.push('enable'),
    disable: () => calls.push('disable'),
    reset: () => {
      calls.push('reset')
    },
    percentile: (p) => (p >= 99 ? p99Us : p50Us) * 1000,
    max: maxUs * 1000,
  }
}
