import { ConfigError, parseDurationMs } from '@iotload/sdk'

/** Statistics an SLO may constrain. */
export type SloStat = 'p50' | 'p90' | 'p99' | 'p999' | 'max' | 'mean'

/** One parsed threshold: a latency percentile of a stream, or the loss/invalid budget. */
export type SloThreshold =
  | { key: string; kind: 'latency'; stream: string; corrected: boolean; stat: SloStat; maxUs: number }
  | {
      key: string
      kind: 'count'
      metric: 'loss' | 'invalid' | 'duplicates'
      maxCount?: number
      maxRatio?: number
    }

const STAT_ALIASES: Record<string, SloStat> = {
  p50: 'p50',
  p90: 'p90',
  p99: 'p99',
  p999: 'p999',
  'p99.9': 'p999',
  max: 'max',
  mean: 'mean',
}

function parseBudget(key: string, value: string | number): { maxCount?: number; maxRatio?: number } {
  if (typeof value === 'number' && value >= 0) return { maxCount: value }
  const m = /^\s*(\d+(?:\.\d+)?)\s*(%)?\s*$/.exec(String(value))
  if (!m)
    throw new ConfigError(
      `slo.${key}`,
      `expected a count like 0 or a percentage like "0.1%", got ${JSON.stringify(value)}`,
    )
  return m[2] ? { maxRatio: Number(m[1]) / 100 } : { maxCount: Number(m[1]) }
}

/**
 * Parses `slo:` entries: `<stream>[.co].<stat>: <duration>` (e.g. `e2e.p99: 10ms`, `e2e.co.p99: 12ms`,
 * `leg.bridge.p99: 2ms`) or `loss|invalid|duplicates: <count or %>`.
 */
export function parseSlo(slo: Record<string, string | number> | undefined): SloThreshold[] {
  if (!slo) return []
  return Object.entries(slo).map(([key, value]): SloThreshold => {
    if (key === 'loss' || key === 'invalid' || key === 'duplicates')
      return { key, kind: 'count', metric: key, ...parseBudget(key, value) }
    const parts = key.split('.')
    let stat = STAT_ALIASES[parts.slice(-1)[0] ?? '']
    let rest = parts.slice(0, -1)
    if (!stat && parts.length >= 3 && `${parts[parts.length - 2]}.${parts[parts.length - 1]}` === 'p99.9') {
      stat = 'p999'
      rest = parts.slice(0, -2)
    }
    if (!stat || rest.length === 0) {
      throw new ConfigError(
        `slo.${key}`,
        'expected <stream>.<p50|p90|p99|p999|max|mean> (e.g. e2e.p99), or loss / invalid / duplicates',
      )
    }
    const corrected = rest[rest.length - 1] === 'co'
    if (corrected) rest = rest.slice(0, -1)
    const ms = parseDurationMs(value)
    if (ms === undefined || typeof value === 'number') {
      throw new ConfigError(
        `slo.${key}`,
        `expected a duration with a unit like "10ms" or "500us", got ${JSON.stringify(value)}`,
      )
    }
    return { key, kind: 'latency', stream: rest.join('.'), corrected, stat, maxUs: ms * 1000 }
  })
}
