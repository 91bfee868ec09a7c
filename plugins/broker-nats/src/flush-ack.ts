import type { NatsConnection } from '@nats-io/transport-node'

/**
 * Core NATS has no per-message ack, but a PING/PONG round trip proves the server has processed every
 * message sent before it (it handles a connection's protocol in order). This shares one such
 * flush among all publishes issued in the same tick, so acks cost one round trip per batch.
 */
export class FlushAck {
  private pending: Promise<void> | undefined

  constructor(private readonly nc: NatsConnection) {}

  /** Resolves once the server has processed everything published so far. */
  ack(): Promise<void> {
    if (this.pending === undefined) {
      // Deferred to a microtask so the PING goes out after every publish of this tick.
      this.pending = Promise.resolve().then(() => {
        this.pending = undefined
        return this.nc.flush()
      })
    }
    return this.pending
  }
}
