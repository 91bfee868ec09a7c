/**
 * Every hook catches its own errors: telemetry must never break a run. Hooks take one argument
 * (no rest arrays on the hot path).
 */
export function guardHooks<T extends object>(h: T): T {
  const out: Record<string, (info: unknown) => unknown> = {}
  for (const [name, fn] of Object.entries(h) as Array<[string, (info: unknown) => unknown]>) {
    out[name] = (info) => {
      try {
        return fn(info)
      } catch {
        return undefined
      }
    }
  }
  return out as T
}
