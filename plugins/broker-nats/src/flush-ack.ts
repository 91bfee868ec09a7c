import type { PublishCallback } from '@iotload/sdk'
import type { NatsConnection } from '@nats-io/transport-node'

/**
 * Core NATS has no per-message ack, but a PING/PONG round trip proves the server has processed every
 * message sent before it (it handles a connection's protocol in order). This shares one such
 * flush among all publishes issued in the same tick, so acks cost one round trip per batch, and
 * (asked before the tick's first publish) its PING leaves in the same socket write as the messages.
 */
/** Longest a QoS 0 send through `publishWith` waits for the flush that confirms it. */
export const LAZY_FLUSH_MS = 10

export class FlushAck {
  private waiting: PublishCallback[] = []
  private lazy: PublishCallback[] = []
  private lazyTimer: ReturnType<typeof setTimeout> | undefined
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

  /**
   * `done` once the server processed everything published so far, confirmed by a flush at most
   * every `LAZY_FLUSH_MS`: for QoS 0 sends, whose ack latency nobody records, a PING/PONG round
   * trip per tick per connection cost a third of a send's CPU at 20k msg/s.
   */
  onFlushedLazily(done: PublishCallback): void {
    this.lazy.push(done)
    this.lazyTimer ??= setTimeout(this.flushLazy, LAZY_FLUSH_MS)
  }

  /** Confirms what waits for a lazy flush now (before the connection closes). */
  async flushLazyNow(): Promise<void> {
    if (this.lazyTimer === undefined) return
    clearTimeout(this.lazyTimer)
    await this.flushLazy()
  }

  /** Resolves once the server has processed everything published so far. */
  ack(): Promise<void> {
    this.pending ??= new Promise<void>((resolve, reject) =>
      this.onFlushed((err) => (err ? reject(err) : resolve())),
    )
    return this.pending
  }

  private readonly flushLazy = (): Promise<void> => {
    this.lazyTimer = undefined
    const batch = this.lazy
    this.lazy = []
    return this.nc.flush().then(
      () => {
        for (const done of batch) done()
      },
      (err: Error) => {
        for (const done of batch) done(err)
      },
    )
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
