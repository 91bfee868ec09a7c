import type { PluginContext } from '@iotload/sdk'
import type { AmqpConfig } from './config.ts'

/** Which queue a subscription consumes from and how it is declared. */
export interface QueuePlan {
  /** '' lets the broker name the queue. */
  name: string
  durable: boolean
  exclusive: boolean
  autoDelete: boolean
  /** Other subscriptions may consume from it too (a group): competing consumers by design. */
  shared: boolean
}

/**
 * Queue declaration for a subscription. A `group` shares one named, non-exclusive queue across
 * connections. Otherwise `queue.name` (with `{role}` and `{clientId}` filled in, so a bridge's
 * input and the consumer do not end up competing on one queue) or a server-named queue.
 */
export function planQueue(
  config: AmqpConfig,
  ctx: Pick<PluginContext, 'role' | 'clientId'>,
  group: string | undefined,
): QueuePlan {
  const { durable, exclusive, autoDelete, name } = config.queue
  if (group !== undefined && group !== '') {
    return { name: group, durable, exclusive: false, autoDelete, shared: true }
  }
  const rendered = name?.replaceAll('{role}', ctx.role).replaceAll('{clientId}', ctx.clientId) ?? ''
  return { name: rendered, durable, exclusive, autoDelete, shared: false }
}
