import { ConfigError } from '@iotload/sdk'
import type { Scenario } from './schema.ts'

/**
 * `run.workers` beyond 1 shards the fleet across threads; `consumer.external` needs the sends in
 * the consumer's own process (correlation ids, warm-up by send counts), so the two do not mix.
 */
export function checkWorkers(s: Scenario): void {
  if (s.run.workers !== 1 && s.consumer.external)
    throw new ConfigError(
      'run.workers',
      'consumer.external needs run.workers: 1 (its correlation and warm-up bookkeeping needs the sends in the consumer’s thread)',
    )
}
