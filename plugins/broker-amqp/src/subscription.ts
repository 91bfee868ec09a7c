import type { InboundMessage, PluginLogger } from '@iotload/sdk'
import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib'
import type { AmqpConfig } from './config.ts'
import type { QueuePlan } from './queue-plan.ts'
import { closeChannel } from './settle.ts'
import type { SwapCache } from './routing-key.ts'

/** How long a channel close may wait for the broker's answer. */
const CLOSE_GRACE_MS = 2000

/**
 * One subscription: its own channel (a channel error stays local to it), a queue bound to the
 * exchange with the translated filter, and a consumer. `start` runs again on every reconnect.
 */
export class AmqpSubscription {
  private channel: Channel | null = null
  private stopped = false
  private acks: AckBatcher | undefined
  private paused = false
  /** The connection the consumer runs on, for asking the broker about its queue. */
  private model: ChannelModel | null = null
  /** Name of the queue as declared by the broker (server-named queues change per connection). */
  queueName = ''

  constructor(
    private readonly config: AmqpConfig,
    /** How the queue is declared; public so the connection can spot two subscriptions on one queue. */
    readonly plan: QueuePlan,
    private readonly bindingKey: string,
    private readonly onMessage: (msg: InboundMessage) => void,
    private readonly topics: SwapCache,
    private readonly logger: PluginLogger,
  ) {}

  /** Declares queue and binding on `model` and starts consuming. */
  async start(model: ChannelModel): Promise<void> {
    if (this.stopped) return
    this.model = model
    const ch = await model.createChannel()
    ch.on('error', (err: Error) => this.logger.warn('amqp consumer channel error', { error: err.message }))
    ch.on('close', () => {
      if (this.channel === ch) this.channel = null
    })
    const manual = this.config.ack === 'manual'
    // Prefetch bounds unacked deliveries; a no-ack consumer ignores it, so only set it when acking.
    if (manual && this.config.prefetch > 0) await ch.prefetch(this.config.prefetch)
    const { name, durable, exclusive, autoDelete } = this.plan
    const q = await ch.assertQueue(name, { durable, exclusive, autoDelete })
    await ch.bindQueue(q.queue, this.config.exchange.name, this.bindingKey)
    await ch.consume(q.queue, this.handler(ch, manual), { noAck: !manual })
    this.queueName = q.queue
    if (this.stopped) {
      await ch.close().catch(() => {})
      return
    }
    this.channel = ch
  }

  /**
   * Pauses delivery by withholding acks (manual ack mode only): at most `prefetch` more messages
   * arrive, the rest wait in the broker's queue.
   */
  pause(): void {
    this.paused = true
    if (this.acks) this.acks.held = true
  }

  /** Resumes delivery after {@link pause}. */
  resume(): void {
    this.paused = false
    this.acks?.release()
  }

  /** The channel died with its connection; `start` will run again on the new one. */
  detach(): void {
    this.channel = null
    this.model = null
  }

  /**
   * Messages ready in the queue, not yet delivered (`queue.declare passive`'s message count; those
   * delivered but unacked are not in it). Asked on a channel of its own: a failed check closes its
   * channel, which must not be the consumer's. Undefined when there is no connection to ask on.
   */
  async backlog(): Promise<number | undefined> {
    const model = this.model
    if (this.stopped || model === null || this.queueName === '') return undefined
    let ch: Channel | undefined
    try {
      ch = await model.createChannel()
      ch.on('error', () => {})
      const q = await ch.checkQueue(this.queueName)
      return q.messageCount
    } catch (err) {
      this.logger.warn('amqp: could not read the queue depth', {
        queue: this.queueName,
        error: err instanceof Error ? err.message : String(err),
      })
      return undefined
    } finally {
      if (ch) await closeChannel(ch, CLOSE_GRACE_MS)
    }
  }

  /** Stops delivery: closing the channel cancels the consumer (and an auto-delete queue goes). */
  async stop(): Promise<void> {
    this.stopped = true
    const ch = this.channel
    this.channel = null
    this.acks?.release()
    if (ch) await closeChannel(ch, CLOSE_GRACE_MS)
  }

  private handler(ch: Channel, manual: boolean): (msg: ConsumeMessage | null) => void {
    const { onMessage, topics, logger } = this
    const acks = manual ? new AckBatcher(ch) : undefined
    if (acks) acks.held = this.paused
    this.acks = acks
    return (msg) => {
      if (msg === null) {
        logger.warn('amqp consumer cancelled by the broker (queue deleted?)', { queue: this.queueName })
        return
      }
      const inbound: InboundMessage = { topic: topics.swap(msg.fields.routingKey), payload: msg.content }
      const headers = msg.properties.headers
      if (headers !== undefined) {
        const strings = stringHeaders(headers)
        if (strings !== undefined) inbound.headers = strings
      }
      try {
        onMessage(inbound)
      } catch (err) {
        logger.error('message callback threw', { error: err instanceof Error ? err.message : String(err) })
      } finally {
        acks?.ack(msg)
      }
    }
  }
}

/**
 * Acks handled deliveries with one `basic.ack multiple` per event-loop turn instead of one frame
 * per message: every message is still acked only after its callback returned, at a fraction of
 * the socket writes (which dominate the client's CPU at high rates). While `held`, acks wait, so
 * the broker stops delivering once `prefetch` messages are unacked: that is how a subscription
 * pauses without cancelling its consumer (which would delete an auto-delete queue).
 */
export class AckBatcher {
  private last: ConsumeMessage | null = null
  private scheduled: NodeJS.Immediate | null = null
  /** Withhold acks (pause). */
  held = false

  constructor(private readonly ch: Channel) {}

  /** Marks `msg` (and every earlier delivery on the channel) as handled. */
  ack(msg: ConsumeMessage): void {
    this.last = msg
    if (!this.held) this.scheduled ??= setImmediate(this.flush)
  }

  /** Sends the pending ack now (unless held). */
  readonly flush = (): void => {
    if (this.scheduled) clearImmediate(this.scheduled)
    this.scheduled = null
    const last = this.last
    if (last === null || this.held) return
    this.last = null
    try {
      this.ch.ack(last, true)
    } catch {
      // The channel closed meanwhile: the broker requeues unacked deliveries itself.
    }
  }

  /** Stops withholding and acks everything handled so far. */
  release(): void {
    this.held = false
    this.flush()
  }
}

/** The string-valued AMQP headers; other types (numbers, x-death arrays, …) are not iotload headers. */
export function stringHeaders(headers: Record<string, unknown>): Record<string, string> | undefined {
  let out: Record<string, string> | undefined
  for (const key in headers) {
    const value = headers[key]
    if (typeof value === 'string') {
      out ??= {}
      out[key] = value
    }
  }
  return out
}
