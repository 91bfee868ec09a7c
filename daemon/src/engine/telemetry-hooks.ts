/**
 * The run's observability hooks (`RunTelemetry`) are a contract in @iotload/sdk, implemented by
 * @iotload/otel; re-exported here for the engine's roles, with the guard they call them through.
 */
export type { RunTelemetry } from '@iotload/sdk'

/** Wraps a hook so a telemetry failure can never break a run. */
export function guard<A extends unknown[], R>(
  fn: ((...args: A) => R) | undefined,
): ((...args: A) => R | undefined) | undefined {
  if (!fn) return undefined
  return (...args: A) => {
    try {
      return fn(...args)
    } catch {
      return undefined
    }
  }
}
