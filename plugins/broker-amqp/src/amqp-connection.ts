import {
  type BrokerConnection,
  ClosedError,
  ConfigError,
  ConnectionError,
  describeError,
  type InboundMessage,
  type OutboundMessage,
  type PluginContext,
  PublishError,
  type SubscribeOptions,
  type Subscription,
} from '@iotload/sdk'
import type { Channel, ChannelModel, ConfirmChannel, Options, RecoveringChannelModel } from 'amqplib'
import type { AmqpConfig } from './config.ts'
import { safeUrl } from './connect-error.ts'
import { filterToBindingKey, SwapCache } from './routing-key.ts'
import { destroySocket, settleWithin } from './settle.ts'
import { planQueue } from './queue-plan.ts'
import { AmqpSubscription } from './subscription.ts'

const SOURCE = 'broker-amqp'
/** How long close() waits for the broker's connection.close-ok before cutting the socket. */
const CLOSE_GRACE_MS = 2000

// Shared, never mutated by amqplib (it copies into its own frame fields): no allocation per publish.
const TRANSIENT: Options.Publish = { persistent: false }
const PERSISTENT: Options.Publish = { persistent: true }
const RESOLVED = Promise.resolve()

/**
 * An AMQP subscription: `pause`/`resume` (the sdk's optional capability) are present in manual ack
 * mode only, where withholding acks holds the broker back.
 * @deprecated the sdk's `Subscription` declares `pause?`/`resume?`; use it.
 */
export type PausableSubscription = Subscription

function toBuffer(payload: Uint8Array): Buffer {
  return Buffer.isBuffer(payload)
    ? payload
    : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength)
}

/**
 * One AMQP connection with a publisher channel (a confirm channel unless `confirm: false`) and
 * one channel per subscription. amqplib's recovering connection re-opens the socket with
 * backoff after a loss; its `setup` hook (`restore`) re-opens the channels, re-declares the
 * exchange and queues and re-consumes before the connection counts as back. While it is down,
 * publish rejects with a PublishError: keeping the session alive is a protocol primitive,
 * retrying a publish is the daemon's business.
 */
export class AmqpConnection implements BrokerConnection {
  private recovering: RecoveringChannelModel | null = null
  /** The newest connection amqplib opened, for tearing its socket down if close() stalls. */
  private lastModel: ChannelModel | null = null
  /** The live connection once restore() finished on it; null while down. */
  private model: ChannelModel | null = null
  private publisher: Channel | ConfirmChannel | null = null
  private readonly subs = new Set<AmqpSubscription>()
  private readonly keys = new SwapCache()
  private readonly topics = new SwapCache()
  private readonly where: string
  private connectedOnce = false
  private closing: Promise<void> | null = null
  private drain: Promise<void> | null = null

  constructor(
    private readonly config: AmqpConfig,
    private readonly ctx: PluginContext,
  ) {
    this.where = safeUrl(config.url)
  }

  /** amqplib `recovery.setup`: runs on every (re)connect before it counts as connected. */
  readonly restore = async (model: ChannelModel): Promise<void> => {
    this.lastModel = model
    // amqplib binds its own listeners only after setup; an error emitted meanwhile must not throw.
    model.on('error', (err: Error) => this.ctx.logger.debug('amqp connection error', { error: err.message }))
    // After a heartbeat timeout amqplib only end()s the socket; a silent peer would keep it open.
    model.on('close', (err?: Error) => {
      if (err) destroySocket(model)
    })
    const publisher = await this.openPublisher(model)
    for (const sub of this.subs) await sub.start(model)
    this.publisher = publisher
    this.model = model
  }

  /** Opens the publish channel and (re-)declares the exchange on it. */
  private async openPublisher(model: ChannelModel): Promise<Channel> {
    const { exchange, confirm } = this.config
    const publisher = confirm ? await model.createConfirmChannel() : await model.createChannel()
    publisher.on('error', (err: Error) =>
      this.ctx.logger.warn('amqp publish channel error', { error: err.message }),
    )
    publisher.on('close', () => {
      if (this.publisher !== publisher) return
      this.publisher = null
      // The broker closed just this channel (say, the exchange was deleted under us) while the
      // connection lives on: open a fresh one, or every later publish would fail for good. A
      // connection-wide close reaches 'disconnect' first, hence the deferral.
      setImmediate(() => {
        if (this.model === model && !this.closing && this.publisher === null) this.reopenPublisher(model)
      })
    })
    await publisher.assertExchange(exchange.name, 'topic', { durable: exchange.durable })
    return publisher
  }

  private reopenPublisher(model: ChannelModel): void {
    this.openPublisher(model).then(
      (publisher) => {
        if (this.model === model && !this.closing) this.publisher = publisher
        else publisher.close().catch(() => {})
      },
      (err: unknown) =>
        this.ctx.logger.warn('cannot reopen the publish channel', { error: describeError(err) }),
    )
  }

  /** Wires the recovering connection's events to `ctx.onStatus`; called once, before the first connect. */
  attach(recovering: RecoveringChannelModel): void {
    this.recovering = recovering
    const { ctx } = this
    recovering.on('connect', () => {
      if (this.connectedOnce) ctx.onStatus?.('reconnected')
      this.connectedOnce = true
    })
    recovering.on('disconnect', (err: Error) => {
      this.model = null
      this.publisher = null
      for (const sub of this.subs) sub.detach()
      ctx.onStatus?.('disconnected', describeError(err))
    })
    recovering.on('reconnect-scheduled', (info: { attempt: number; delay: number; error: Error }) => {
      if (this.connectedOnce) ctx.onStatus?.('reconnecting', `attempt ${info.attempt} in ${info.delay} ms`)
    })
    recovering.on('connect-failed', (err: Error) => {
      if (this.connectedOnce) ctx.logger.debug('amqp reconnect attempt failed', { error: describeError(err) })
    })
    recovering.on('reconnect-failed', (err: Error) => {
      if (this.connectedOnce) ctx.logger.error('amqp reconnect gave up', { error: describeError(err) })
    })
    recovering.on('blocked', (reason: string) => ctx.logger.warn('broker blocked publishing', { reason }))
    recovering.on('unblocked', () => ctx.logger.info('broker unblocked publishing'))
    recovering.on('error', (err: Error) => ctx.logger.debug('amqp connection error', { error: err.message }))
  }

  publish(topic: string, msg: OutboundMessage): Promise<void> {
    const ch = this.publisher
    if (ch === null) {
      if (this.closing) return Promise.reject(new ClosedError('connection is closed', { source: SOURCE }))
      return Promise.reject(new PublishError(`not connected to ${this.where}`, { source: SOURCE }))
    }
    const content = toBuffer(msg.payload)
    const persistent = msg.qos !== undefined && msg.qos > 0
    const options = msg.headers ? { persistent, headers: msg.headers } : persistent ? PERSISTENT : TRANSIENT
    const key = this.keys.swap(topic)
    const exchange = this.config.exchange.name
    if (this.config.confirm) {
      return new Promise((resolve, reject) => {
        try {
          ;(ch as ConfirmChannel).publish(exchange, key, content, options, (err: unknown) => {
            if (err)
              reject(
                new PublishError(`${topic}: not confirmed (${describeError(err)})`, {
                  source: SOURCE,
                  cause: err,
                }),
              )
            else resolve()
          })
        } catch (err) {
          reject(new PublishError(`${topic}: ${describeError(err)}`, { source: SOURCE, cause: err }))
        }
      })
    }
    try {
      return ch.publish(exchange, key, content, options) ? RESOLVED : this.awaitDrain(ch)
    } catch (err) {
      return Promise.reject(
        new PublishError(`${topic}: ${describeError(err)}`, { source: SOURCE, cause: err }),
      )
    }
  }

  /** Without confirms, a full write buffer is the only backpressure; one shared wait for all callers. */
  private awaitDrain(ch: Channel): Promise<void> {
    this.drain ??= new Promise((resolve) => {
      const done = () => {
        ch.off('drain', done)
        ch.off('close', done)
        this.drain = null
        resolve()
      }
      ch.on('drain', done)
      ch.on('close', done)
    })
    return this.drain
  }

  async subscribe(
    filter: string,
    onMessage: (msg: InboundMessage) => void,
    options?: SubscribeOptions,
  ): Promise<Subscription> {
    if (this.closing) throw new ClosedError('connection is closed', { source: SOURCE })
    const plan = planQueue(this.config, this.ctx, options?.group)
    if (plan.name !== '' && !plan.shared) {
      for (const other of this.subs) {
        if (other.plan.name === plan.name) {
          // Two filters on one queue would split each other's messages round-robin.
          throw new ConfigError(
            'broker.queue.name',
            `queue '${plan.name}' is already consumed on this connection; put {role} or {clientId} in the name, or use a group`,
            { source: SOURCE },
          )
        }
      }
    }
    let bindingKey: string
    try {
      bindingKey = filterToBindingKey(filter)
    } catch (err) {
      throw new ConfigError('', `invalid filter: ${describeError(err)}`, { source: SOURCE, cause: err })
    }
    const sub = new AmqpSubscription(this.config, plan, bindingKey, onMessage, this.topics, this.ctx.logger)
    const model = this.model
    if (model === null)
      throw new ConnectionError('unreachable', `not connected to ${this.where}`, { source: SOURCE })
    await sub.start(model)
    this.subs.add(sub)
    const handle: PausableSubscription = {
      unsubscribe: async () => {
        if (!this.subs.delete(sub)) return
        await sub.stop()
      },
    }
    // Only acks can hold the broker back; a no-ack consumer has no way to pause.
    if (this.config.ack === 'manual') {
      handle.pause = () => sub.pause()
      handle.resume = () => sub.resume()
    }
    return handle
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.model = null
      this.publisher = null
      // Channel close frames queue behind that channel's last acks; a bare connection close can
      // overtake them, and the broker would requeue messages the callback already handled.
      const subs = [...this.subs]
      this.subs.clear()
      await Promise.all(subs.map((s) => s.stop()))
      const last = this.lastModel
      this.lastModel = null
      // A dead-but-unnoticed socket never answers connection.close: give it a moment, then cut it.
      if (this.recovering && !(await settleWithin(this.recovering.close(), CLOSE_GRACE_MS)) && last) {
        destroySocket(last)
      }
    })()
    return this.closing
  }
}
