import { ConfigError } from '@iotload/sdk'
import { recordedPayloadSpec } from './recorded-payload.ts'
import type { Scenario } from './schema.ts'

/**
 * `run.workers` beyond 1 shards one fleet across threads. What needs the whole run in one thread,
 * or has not been proven sharded yet, is refused by name rather than silently run differently.
 */
export function checkWorkers(s: Scenario): void {
  if (s.run.workers === 1) return
  if (s.consumer.external)
    throw new ConfigError(
      'run.workers',
      'consumer.external needs run.workers: 1 (its correlation and warm-up bookkeeping needs the sends in the consumer’s thread)',
    )
  const grouped = s.grouped ? s.groups.map((g) => g.config) : []
  const oneThreadOnly: Array<[boolean, string]> = [
    [grouped.some((g) => g.identities !== undefined), 'device groups with identities'],
    [
      grouped.some((g) => recordedPayloadSpec(g.payload) !== undefined),
      'device groups with a recorded payload',
    ],
    [grouped.some((g) => g.maxConnectFailures !== undefined), 'device groups with maxConnectFailures'],
    [
      s.producer.identities !== undefined && s.producer.connections !== 'per-device',
      'producer.identities with a shared connection pool',
    ],
  ]
  const used = oneThreadOnly.filter(([on]) => on).map(([, what]) => what)
  if (used.length > 0)
    throw new ConfigError(
      'run.workers',
      `${used.join(', ')} run on one thread for now: set run.workers: 1 (or leave it out)`,
    )
}
