import {
  ClosedError,
  type BrokerConnection,
  type InboundMessage,
  type OutboundMessage,
  type PublishCallback,
} from '@iotload/sdk'
import type { MsgHdrs, NatsConnection, Subscription as NatsSubscription } from '@nats-io/transport-node'
import { SOURCE, toPublishError } from './errors.ts'
import { FlushAck } from './flush-ack.ts'
import { fromNatsHeaders, toNatsHeaders } from './headers.ts'

/** Core NATS: at-most-once pub/sub, queue groups for competing consumers. */
export class CoreConnection implements BrokerConnection {
  private readonly flush: FlushAck
  private closing: Promise<void> | undefined

  constructor(
    private readonly nc: NatsConnection,
    private readonly headers: () => MsgHdrs,
    private readonly statusDone: Promise<void>,
  ) {
    this.flush = new FlushAck(nc)
  }

  /** Resolves once the server processed the message (see `FlushAck`); qos and key have no meaning here. */
  publish(topic: string, msg: OutboundMessage): Promise<void> {
    if (this.closing) return Promise.reject(new ClosedError('connection is closed', { source: SOURCE }))
    // Asked before publishing: the flush's PING then leaves in the same socket write as the message.
    const acked = this.flush.ack()
    try {
      this.send(topic, msg)
    } catch (err) {
      return Promise.reject(toPublishError(err, topic))
    }
    return acked.catch((err: unknown) => {
      throw toPublishError(err, topic)
    })
  }

  /**
   * `publish` without a promise: `done` once the server processed the message, confirmed by one
   * flush per tick (QoS 1+) or by a flush at most every 10 ms (QoS 0, whose ack nobody times).
   */
  publishWith(topic: string, msg: OutboundMessage, done: PublishCallback): void {
    if (this.closing) {
      queueMicrotask(() => done(new ClosedError('connection is closed', { source: SOURCE })))
      return
    }
    const lazy = (msg.qos ?? 0) === 0
    if (!lazy) this.flush.prepare()
    try {
      this.send(topic, msg)
    } catch (err) {
      queueMicrotask(() => done(toPublishError(err, topic)))
      return
    }
    if (lazy) this.flush.onFlushedLazily(done)
    else this.flush.onFlushed(done)
  }

  private send(topic: string, msg: OutboundMessage): void {
    this.nc.publish(
      topic,
      msg.payload,
      msg.headers === undefined ? undefined : { headers: toNatsHeaders(msg.headers, this.headers) },
    )
  }

  async subscribe(
    filter: string,
    onMessage: (msg: InboundMessage) => void,
    options?: { group?: string },
  ): Promise<{ unsubscribe(): Promise<void> }> {
    if (this.closing) throw new ClosedError('connection is closed', { source: SOURCE })
    const sub: NatsSubscription = this.nc.subscribe(filter, {
      ...(options?.group !== undefined && { queue: options.group }),
      callback: (err, m) => {
        if (err) return
        onMessage({ topic: m.subject, payload: m.data, headers: fromNatsHeaders(m.headers) })
      },
    })
    // Round trip so the server has registered the interest before the caller starts publishing.
    await this.nc.flush()
    return {
      unsubscribe: async () => {
        if (!sub.isClosed()) sub.unsubscribe()
      },
    }
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.flush.flushLazyNow().catch(() => undefined)
      await this.nc.close().catch(() => undefined)
      await this.statusDone
    })()
    return this.closing
  }
}
