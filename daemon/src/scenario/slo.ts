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
  /** `generator: ok`: FAIL when iotload itself was the bottleneck (the figures then describe it). */
  | { key: string; kind: 'generator' }
  /** `recovery: 10s`: every fault and outage recovered within this (docs/faults.md). */
  | { key: string; kind: 'recovery'; maxMs: number }

const STAT_ALIASES: Record<string, SloStat> = {
  p50: 'p50',
  p90: 'p90',
  p99: 'p99',
  p999: 'p999',
  'p99.9': 'p999',
  max: 'max',
  mean: 'mean',
}

/**
 * Stream names an SLO may name, with the aliases users reach for. `bridge` is the bridge-processing
 * leg (the seed's leg 5); `total` is the end-to-end figure.
 */
const STREAM_ALIASES: Record<string, string> = {
  e2e: 'e2e',
  total: 'e2e',
  'publish-ack': 'publish-ack',
  ack: 'publish-ack',
  rtt: 'rtt',
  'producer-bridge': 'producer-bridge',
  'bridge-in': 'producer-bridge',
  bridge: 'bridge',
  'bridge-processing': 'bridge',
  'bridge-consumer': 'bridge-consumer',
  'bridge-out': 'bridge-consumer',
  // An external iPaaS's legs (consumer.external.legs) are recorded under the bridge's streams.
  'producer-ipaas': 'producer-bridge',
  ipaas: 'bridge',
  'ipaas-consumer': 'bridge-consumer',
}

/** Streams recorded with a coordinated-omission-corrected twin (they have an intended start time). */
const CORRECTED_STREAMS = new Set(['e2e', 'producer-bridge'])

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
 * `bridge.p99: 2ms` for the bridge-processing leg, `leg.bridge-consumer.p99: 3ms`) or
 * `loss|invalid|duplicates: <count or %>`, or `generator: ok`. Unknown streams are rejected here, not failed later.
 */
export function parseSlo(slo: Record<string, string | number> | undefined): SloThreshold[] {
  if (!slo) return []
  return Object.entries(slo).map(([key, value]): SloThreshold => {
    if (key === 'generator') {
      if (value !== 'ok')
        throw new ConfigError(
          'slo.generator',
          `the only value is "ok" (FAIL when the generator was the bottleneck), got ${JSON.stringify(value)}`,
        )
      return { key, kind: 'generator' }
    }
    if (key === 'loss' || key === 'invalid' || key === 'duplicates')
      return { key, kind: 'count', metric: key, ...parseBudget(key, value) }
    if (key === 'recovery') {
      const maxMs = parseDurationMs(String(value))
      if (maxMs === undefined)
        throw new ConfigError('slo.recovery', `expected a duration like "10s", got ${JSON.stringify(value)}`)
      return { key, kind: 'recovery', maxMs }
    }
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
        'expected <stream>.<p50|p90|p99|p999|max|mean> (e.g. e2e.p99), loss / invalid / duplicates, or generator: ok',
      )
    }
    const corrected = rest[rest.length - 1] === 'co'
    if (corrected) rest = rest.slice(0, -1)
    if (rest[0] === 'leg' && rest.length > 1) rest = rest.slice(1)
    const stream = STREAM_ALIASES[rest.join('.')]
    if (!stream) {
      throw new ConfigError(
        `slo.${key}`,
        `unknown stream '${rest.join('.')}'; one of ${Object.keys(STREAM_ALIASES).join(', ')}`,
      )
    }
    if (corrected && !CORRECTED_STREAMS.has(stream)) {
      throw new ConfigError(
        `slo.${key}`,
        `'${stream}' has no coordinated-omission-corrected figure (only ${[...CORRECTED_STREAMS].join(', ')})`,
      )
    }
    const ms = parseDurationMs(value)
    if (ms === undefined || typeof value === 'number') {
      throw new ConfigError(
        `slo.${key}`,
        `expected a duration with a unit like "10ms" or "500us", got ${JSON.stringify(value)}`,
      )
    }
    return { key, kind: 'latency', stream, corrected, stat, maxUs: ms * 1000 }
  })
}
