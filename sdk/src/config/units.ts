import { z } from 'zod'

const DURATION_UNITS_MS: Record<string, number> = {
  us: 0.001,
  µs: 0.001,
  ms: 1,
  s: 1000,
  m: 60_000,
  min: 60_000,
  h: 3_600_000,
}
const RATE_UNITS_PER_S: Record<string, number> = { s: 1, sec: 1, m: 1 / 60, min: 1 / 60, h: 1 / 3600 }

/**
 * Parses a duration: `500us`, `1.5ms`, `30s`, `2m`, `1h`, or a bare number of seconds.
 * Returns milliseconds, or `undefined` when the text is not a duration.
 */
export function parseDurationMs(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value * 1000 : undefined
  const m = /^\s*(\d+(?:\.\d+)?)\s*(us|µs|ms|s|m|min|h)?\s*$/.exec(value)
  if (!m) return undefined
  const unit = DURATION_UNITS_MS[m[2] ?? 's']
  return unit === undefined ? undefined : Number(m[1]) * unit
}

/** Parses a rate: `10/s`, `600/min`, `0.5/s`, `3600/h`. Returns events per second, or `undefined`. */
export function parseRatePerSecond(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined
  const m = /^\s*(\d+(?:\.\d+)?)\s*\/\s*(s|sec|m|min|h)\s*$/.exec(value)
  if (!m) return undefined
  const unit = RATE_UNITS_PER_S[m[2] ?? 's']
  return unit === undefined ? undefined : Number(m[1]) * unit
}

/** Zod type for a duration (`30s`, `500ms`, number of seconds), output in milliseconds. */
export const durationMsSchema = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const ms = parseDurationMs(v)
  if (ms === undefined || ms < 0) {
    ctx.addIssue({
      code: 'custom',
      message: `expected a duration like "30s", "500ms" or "2m", got ${JSON.stringify(v)}`,
    })
    return z.NEVER
  }
  return ms
})

/** Zod type for a positive rate (`10/s`, `600/min`), output in events per second. */
export const rateSchema = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const r = parseRatePerSecond(v)
  if (r === undefined || r <= 0) {
    ctx.addIssue({
      code: 'custom',
      message: `expected a positive rate like "10/s" or "600/min", got ${JSON.stringify(v)}`,
    })
    return z.NEVER
  }
  return r
})
