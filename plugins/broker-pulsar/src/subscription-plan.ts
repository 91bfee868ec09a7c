import type { PulsarConfig, SubscriptionType } from './config.ts'

/** The subscription one subscribe call opens, the same over WebSocket and the binary protocol. */
export interface SubscriptionPlan {
  name: string
  type: SubscriptionType
  mode: 'Durable' | 'NonDurable'
}

/**
 * A group subscribes as `group` with `groupSubscriptionType`, durable; otherwise the configured
 * `subscription`, or a non-durable `iotload-<clientId>` (`-<n>` from the second on) of its own.
 */
export function planSubscription(
  config: Pick<
    PulsarConfig,
    'subscription' | 'subscriptionType' | 'groupSubscriptionType' | 'subscriptionMode'
  >,
  clientId: string,
  group: string | undefined,
  seq: number,
): SubscriptionPlan {
  const named = group ?? config.subscription
  return {
    name: named ?? `iotload-${clientId}${seq > 1 ? `-${seq}` : ''}`,
    type: group !== undefined ? config.groupSubscriptionType : config.subscriptionType,
    mode: config.subscriptionMode ?? (named === undefined ? 'NonDurable' : 'Durable'),
  }
}
