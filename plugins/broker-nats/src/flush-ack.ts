import type { PublishCallback } from '@iotload/sdk'
import type { NatsConnection } from '@nats-io/transport-node'

/**
 * Core NATS has no per-message ack, but a PING/PONG round trip proves the server has processed every
 * message sent before it (it handles a connection's protocol in order). This shares one such
 * flush among all publishes issued in the same tick, so acks cost one round trip per batch, and
 * (asked before the tick's first publish) its PING leaves in the same socket write as the messages.
 */
export class FlushAck {
  private waiting: PublishCallback[] = []
  private scheduled = false
  private pending: Promise<void> | undefined

  constructor(private readonly nc: NatsConnection) {}

  /**
   * Call before publishing: queues this tick's flush ahead of the client's own write, so the PING
   * is appended to the tick's messages (after every publish of the tick) and written with them.
   */
  prepare(): void {
    if (this.scheduled) return
    this.scheduled = true
    queueMicrotask(this.flushNow)
  }

  /** `done` is called once the server has processed everything published so far in this tick. */
  onFlushed(done: PublishCallback): void {
    this.prepare()
    this.waiting.push(done)
  }

  /** Resolves once the server has processed everything published so far. */
  ack(): Promise<void> {
    this.pending ??= new Promise<void>((resolve, reject) =>
      this.onFlushed((err) => (err ? reject(err) : resolve())),
    )
    return this.pending
  }

  private readonly flushNow = (): void => {
    this.scheduled = false
    this.pending = undefined
    const batch = this.waiting
    if (batch.length === 0) return
    this.waiting = []
    this.nc.flush().then(
      () => {
        for (const done of batch) done()
      },
      (err: Error) => {
        for (const done of batch) done(err)
      },
    )
  }
}
