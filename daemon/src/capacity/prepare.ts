import { ConfigError } from '@iotload/sdk'
import type { ResolvedScenario } from '../scenario/load-scenario.ts'
import type { ScenarioLimits } from '../scenario/trust-policy.ts'
import type { CapacityOptions } from './options.ts'
import type { SearchBounds } from './search.ts'

/** Warm-up of each probe when neither the flags nor the scenario give one, ms. */
const DEFAULT_PROBE_WARMUP_MS = 2000
/** Time a probe spends besides warm-up, duration and drain (connecting, lead, closing), ms, for the budget. */
const PROBE_OVERHEAD_MS = 1500

/** A search checked and ready to run: the scenario as given, and how each probe is built. */
export interface PreparedSearch {
  /** The scenario as submitted (references unresolved): each probe is built from it. */
  raw: Record<string, unknown>
  name: string
  /** Safe to store and echo. */
  redacted: unknown
  options: CapacityOptions
  bounds: SearchBounds
  /** Measured time and warm-up of each probe, ms. */
  durationMs: number
  warmupMs: number
}

/** Resolves a raw scenario under the caller's policy (the CLI's or the daemon's). */
export type Resolve = (raw: unknown) => Promise<ResolvedScenario>

const fmt = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: 3 })

/**
 * The scenario of one probe: the submitted one at `rate` msg/s fleet-wide (its own rate removed),
 * with the probe's timing, the search's SLOs added, and a name that says which search it is from.
 */
export function probeScenario(
  prepared: Pick<PreparedSearch, 'raw' | 'name' | 'options' | 'durationMs' | 'warmupMs'>,
  rate: number,
  searchId: string,
): Record<string, unknown> {
  const s = structuredClone(prepared.raw)
  const { rate: _perDevice, stages: _stages, ...producer } = (s.producer ?? {}) as Record<string, unknown>
  s.producer = {
    ...producer,
    totalRate: `${rate}/s`,
    duration: `${prepared.durationMs}ms`,
    warmup: `${prepared.warmupMs}ms`,
  }
  if (prepared.options.slo) s.slo = { ...((s.slo as Record<string, unknown>) ?? {}), ...prepared.options.slo }
  s.name = `${prepared.name} @ ${fmt(rate)}/s (find-max ${searchId})`.slice(0, 200)
  return s
}

/**
 * Checks a search before anything runs: the scenario (validated in full under the caller's
 * policy), no `stages` (find-max sets the rate), a consumer to judge arrivals, the floor and
 * ceiling within the limits, and a probe at the ceiling valid too (duration, SLOs, limits).
 * Throws ConfigError naming the field.
 */
export async function prepareSearch(
  raw: unknown,
  options: CapacityOptions,
  resolve: Resolve,
  limits: ScenarioLimits,
  resolveProbe: Resolve = resolve,
): Promise<PreparedSearch> {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw new ConfigError('scenario', 'the scenario must be a mapping (YAML/JSON object)')
  const resolved = await resolve(raw)
  const s = resolved.scenario
  const p = s.producer
  if (s.grouped)
    throw new ConfigError(
      'producers',
      'find-max sets one fleet-wide rate; give one producer: (run device groups with iotload run)',
    )
  if (p.stages)
    throw new ConfigError(
      'producer.stages',
      'find-max sets the rate itself; leave out stages (run a load shape with iotload run)',
    )
  if (!s.consumer.enabled)
    throw new ConfigError('consumer.enabled', 'find-max judges what arrives: it needs the consumer')
  const floor = options.from ?? p.totalRate ?? (p.rate ?? 0) * p.devices
  const ceiling = options.to ?? limits.maxRate
  if (ceiling > limits.maxRate)
    throw new ConfigError(
      'to',
      `${fmt(ceiling)}/s is above the limit of ${fmt(limits.maxRate)}/s (--max-rate)`,
    )
  if (floor > ceiling)
    throw new ConfigError('from', `the floor ${fmt(floor)}/s is above the ceiling ${fmt(ceiling)}/s`)
  if (options.maxTime > limits.maxRunTimeMs)
    throw new ConfigError(
      'maxTime',
      `${fmt(options.maxTime / 1000)}s is longer than a run may last here (${fmt(limits.maxRunTimeMs / 1000)}s, --max-run-time)`,
    )
  const durationMs = options.probeDuration ?? p.duration
  const warmupMs = options.warmup ?? (p.warmup > 0 ? p.warmup : DEFAULT_PROBE_WARMUP_MS)
  const probeMs = warmupMs + durationMs + s.run.drain + PROBE_OVERHEAD_MS
  if (probeMs > options.maxTime)
    throw new ConfigError(
      'maxTime',
      `one probe takes about ${fmt(probeMs / 1000)}s (warm-up + duration + drain), more than the ${fmt(options.maxTime / 1000)}s allowed`,
    )
  const prepared: PreparedSearch = {
    raw: raw as Record<string, unknown>,
    name: s.name,
    redacted: resolved.redacted,
    options,
    bounds: {
      floor,
      ceiling,
      precision: options.precision,
      maxProbes: options.maxProbes,
      maxTimeMs: options.maxTime,
      probeMs,
    },
    durationMs,
    warmupMs,
  }
  // The heaviest probe must pass the same checks a run does (limits, SLO syntax, run time).
  await resolveProbe(probeScenario(prepared, ceiling, 'check'))
  return prepared
}
