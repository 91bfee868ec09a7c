import type { PluginContext } from '@iotload/sdk'
import type { NatsConnection } from '@nats-io/transport-node'

/**
 * Forwards the client's connection events to `ctx.onStatus` until the connection closes.
 * The returned promise settles when the status stream ends.
 */
export async function forwardStatus(nc: NatsConnection, ctx: PluginContext): Promise<void> {
  const onStatus = ctx.onStatus
  for await (const s of nc.status()) {
    switch (s.type) {
      case 'disconnect':
        onStatus?.('disconnected', s.server)
        break
      case 'reconnecting':
        onStatus?.('reconnecting')
        break
      case 'reconnect':
        onStatus?.('reconnected', s.server)
        break
      case 'error':
        ctx.logger.warn('nats connection error', { error: s.error.message })
        break
      case 'slowConsumer':
        ctx.logger.warn('nats slow consumer', { subject: s.sub.getSubject(), pending: s.pending })
        break
    }
  }
}
