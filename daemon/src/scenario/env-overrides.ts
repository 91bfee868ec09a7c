import { parse as parseYaml } from 'yaml'
import type { z } from 'zod'
import { leafPaths } from './zod-walk.ts'

/** Prefix of scenario overrides; daemon settings (IOTLOAD_TOKEN, IOTLOAD_PORT, …) use other names. */
export const ENV_PREFIX = 'IOTLOAD_'
/** Scenario sections that can be set from the environment. */
export const ENV_SECTIONS = ['NAME', 'BROKER', 'PRODUCER', 'CONSUMER', 'BRIDGE', 'SLO', 'RUN']

/** `producer.connectConcurrency` → `IOTLOAD_PRODUCER_CONNECT_CONCURRENCY`. */
export function envNameFor(path: string[]): string {
  return (
    ENV_PREFIX +
    path
      .map((p) =>
        p
          .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
          .replace(/[^a-zA-Z0-9]/g, '_')
          .toUpperCase(),
      )
      .join('_')
  )
}

/** Env values are YAML scalars: `10` is a number, `true` a boolean, `{a: 1}` an object. */
function parseEnvValue(value: string): unknown {
  try {
    return parseYaml(value)
  } catch {
    return value
  }
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target
  for (const key of path.slice(0, -1)) {
    const next = node[key]
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[key] = {}
    node = node[key] as Record<string, unknown>
  }
  node[path[path.length - 1]!] = value
}

/** Result of applying overrides: which variables were used, and which looked like overrides but matched nothing. */
export interface EnvOverrideReport {
  applied: Array<{ env: string; path: string }>
  unknown: string[]
}

/**
 * Applies `IOTLOAD_<SECTION>_<FIELD>` variables onto a raw scenario, in place, for every leaf the
 * given schemas describe (`prefix` places a plugin's schema under `broker`). SLO thresholds are
 * free-form: `IOTLOAD_SLO_E2E_P99=10ms` sets `slo['e2e.p99']`.
 */
export function applyEnvOverrides(
  raw: Record<string, unknown>,
  schemas: Array<{ schema: z.ZodType; prefix?: string[] }>,
  env: NodeJS.ProcessEnv = process.env,
): EnvOverrideReport {
  const byName = new Map<string, string[]>()
  for (const { schema, prefix = [] } of schemas) {
    for (const p of leafPaths(schema, prefix)) if (p.length > 0) byName.set(envNameFor(p), p)
  }
  const report: EnvOverrideReport = { applied: [], unknown: [] }
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || !name.startsWith(ENV_PREFIX)) continue
    const section = name.slice(ENV_PREFIX.length).split('_')[0]!
    if (!ENV_SECTIONS.includes(section)) continue
    const path = byName.get(name)
    if (path) {
      setPath(raw, path, parseEnvValue(value))
      report.applied.push({ env: name, path: path.join('.') })
    } else if (section === 'SLO' && name.length > `${ENV_PREFIX}SLO_`.length) {
      const key = name
        .slice(`${ENV_PREFIX}SLO_`.length)
        .toLowerCase()
        .replace(/_/g, '.')
        .replace('p99.9', 'p999')
      setPath(raw, ['slo', key], parseEnvValue(value))
      report.applied.push({ env: name, path: `slo.${key}` })
    } else {
      report.unknown.push(name)
    }
  }
  return report
}
