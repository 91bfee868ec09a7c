import { type BrokerPlugin, ConfigError } from '@iotload/sdk'
import type { Scenario } from './schema.ts'

/**
 * Checks `consumer.mode: fanout` against what the consumer's plugin declares
 * (`capabilities.fanout`) and against the consumer settings a fan-out cannot have. Throws
 * ConfigError naming the field; nothing has connected yet.
 */
export function checkConsumerMode(s: Scenario, pluginName: string, plugin: BrokerPlugin): void {
  const c = s.consumer
  if (c.mode !== 'fanout') return
  if (!plugin.capabilities.fanout)
    throw new ConfigError(
      'consumer.mode',
      `the ${pluginName} plugin cannot give every subscriber every message (it declares no capabilities.fanout); use mode: shared`,
    )
  if (c.group !== undefined)
    throw new ConfigError(
      'consumer.group',
      'a fan-out has no shared group: each subscriber gets its own; leave group out (or use mode: shared)',
    )
  if (c.external !== undefined)
    throw new ConfigError(
      'consumer.mode',
      "a fan-out is accounted per subscriber through iotload's envelope; consumer.external takes mode: shared",
    )
  if (!c.enabled)
    throw new ConfigError('consumer.mode', 'a fan-out needs the consumer (consumer.enabled: true)')
}
