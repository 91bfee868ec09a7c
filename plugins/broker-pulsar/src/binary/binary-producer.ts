import { type OutboundMessage, type PublishCallback, PublishError } from '@iotload/sdk'
import { type BinaryClient, BrokerError, type Channel, clip } from './binary-client.ts'
import {
  Cmd,
  closeProducerFrame,
  type InboundFrame,
  producerFrame,
  ServerError,
  sendFrame,
} from './commands.ts'
import { onOwner } from './lookup.ts'

const SOURCE = 'broker-pulsar'
const SWEEP_MS = 1000
/** close() waits this long for the broker's answer, then lets go. */
const CLOSE_TIMEOUT_MS = 2000
/** Broker answers that another try will not change. */
const PERMANENT: ReadonlySet<number> = new Set([
  ServerError.TopicNotFound,
  ServerError.InvalidTopicName,
  ServerError.AuthorizationError,
])

interface Queued {
  msg: OutboundMessage
  done: PublishCallback | undefined
}

/**
 * One producer on one topic over a BinaryClient. A publish is written at once while the producer
 * is registered on the broker and resolves on its SEND_RECEIPT (QoS 0: once written); publishes
 * made while it (re)registers wait in a bounded queue; sends unacked when the connection drops
 * are failed. After a reconnect, or when the broker closes the producer (topic unload), it
 * registers again.
 */
export class BinaryProducer implements Channel {
  private client: BinaryClient | undefined
  private id = 0
  private name: Buffer | undefined
  private seq = 0
  private readonly inflight = new Map<number, PublishCallback>()
  /** (next sequence id, time) once a second while sends await receipts; see `sweep`. */
  private marks: { seq: number; at: number }[] = []
  private sweeper: NodeJS.Timeout | undefined
  private queue: Queued[] = []
  private closed = false
  private retry: NodeJS.Timeout | undefined
  private registering = false

  constructor(
    /** The connection to the broker that owns the topic (after a lookup). */
    private readonly connect: () => Promise<BinaryClient>,
    private readonly topic: string,
    private readonly maxQueued: number,
    /** A send without a receipt for this long fails (the broker hangs, the connection does not drop). */
    private readonly sendTimeoutMs: number,
  ) {}

  /** Registers the producer; on failure every queued publish fails with the reason. */
  async start(): Promise<void> {
    try {
      const client = await this.connect()
      if (this.closed) return
      this.client = client
      this.id = client.nextChannelId()
      client.producers.set(this.id, this)
      await this.register()
    } catch (err) {
      this.client?.producers.delete(this.id)
      this.failQueue(
        new PublishError(`cannot open producer on ${this.topic}: ${(err as Error).message}`, {
          source: SOURCE,
          cause: err,
        }),
      )
      throw err
    }
  }

  publishWith(msg: OutboundMessage, done: PublishCallback): void {
    if (this.closed) {
      done(new PublishError(`producer on ${this.topic} is closed`, { source: SOURCE }))
      return
    }
    if (this.name !== undefined && this.queue.length === 0 && this.send(msg, done)) return
    if (this.queue.length >= this.maxQueued) {
      done(
        new PublishError(`${this.maxQueued} publishes already wait for the producer on ${this.topic}`, {
          source: SOURCE,
        }),
      )
      return
    }
    if (msg.qos === 0) {
      this.queue.push({ msg, done: undefined })
      done()
    } else this.queue.push({ msg, done })
  }

  /** Closes the producer on the broker and fails whatever still waits. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    clearTimeout(this.retry)
    const client = this.client
    client?.producers.delete(this.id)
    if (client !== undefined && this.name !== undefined && client.isReady)
      await client.request((rid) => closeProducerFrame(this.id, rid), CLOSE_TIMEOUT_MS).catch(() => undefined)
    this.name = undefined
    this.failInflight('producer closed before the broker acked')
    this.failQueue(new PublishError(`producer on ${this.topic} closed`, { source: SOURCE }))
  }

  onFrame(frame: InboundFrame): void {
    if (frame.type === Cmd.CLOSE_PRODUCER) {
      // The broker unloaded the topic (or it moved): register again, as after a reconnect.
      this.name = undefined
      this.failInflight('the broker closed the producer before it acked')
      this.reregister()
      return
    }
    const r = frame.body
    let seq = -1
    let message = ''
    const isError = frame.type === Cmd.SEND_ERROR
    while (r.next()) {
      if (r.field === 2) seq = r.uint()
      else if (isError && r.field === 4) message = r.string()
      else r.skip()
    }
    const done = this.inflight.get(seq)
    if (done === undefined) return
    this.inflight.delete(seq)
    if (!isError) done()
    else
      done(
        new PublishError(`broker rejected the message on ${this.topic}: ${clip(message)}`, {
          source: SOURCE,
        }),
      )
  }

  onDown(reason: string): void {
    this.name = undefined
    this.failInflight(`connection lost before the broker acked (${reason})`)
  }

  onUp(): void {
    this.reregister()
  }

  private async register(): Promise<void> {
    const client = this.client as BinaryClient
    const r = await onOwner(client, this.topic, () =>
      client.request((rid) => producerFrame(this.topic, this.id, rid)),
    )
    if (this.closed) return
    this.name = Buffer.from(r.producerName ?? `iotload-${this.id}`)
    this.flush()
  }

  private reregister(): void {
    const client = this.client
    if (this.closed || client === undefined || !client.isReady || this.registering) return
    // One registration at a time: a broker repeating CLOSE_PRODUCER must not pile up requests.
    this.registering = true
    this.register().then(
      () => {
        this.registering = false
      },
      (err: unknown) => {
        this.registering = false
        if (this.closed || !client.isReady) return // the next onUp tries again
        const transient = !(err instanceof BrokerError && PERMANENT.has(err.code))
        client.env.logger.warn('pulsar producer could not register again', {
          topic: this.topic,
          error: String(err),
        })
        if (transient) this.retry = setTimeout(() => this.reregister(), client.env.reconnectMs)
        else
          this.failQueue(
            new PublishError(`cannot open producer on ${this.topic}: ${(err as Error).message}`, {
              source: SOURCE,
            }),
          )
      },
    )
  }

  /** Writes one message; false when the connection is not ready (the caller queues it). */
  private send(msg: OutboundMessage, done: PublishCallback | undefined): boolean {
    const name = this.name
    const client = this.client
    if (name === undefined || client === undefined) return false
    const sequenceId = this.seq++
    const frame = sendFrame({
      producerId: this.id,
      sequenceId,
      producerName: name,
      publishTime: Date.now(),
      key: msg.key,
      properties: msg.headers,
      payload: msg.payload,
    })
    if (!client.write(frame)) return false
    if (msg.qos === 0) done?.()
    else if (done !== undefined) {
      this.inflight.set(sequenceId, done)
      if (this.sweeper === undefined) {
        this.sweeper = setInterval(this.sweep, SWEEP_MS)
        this.sweeper.unref()
      }
    }
    return true
  }

  private flush(): void {
    const queued = this.queue
    this.queue = []
    for (let i = 0; i < queued.length; i++) {
      const q = queued[i] as Queued
      if (!this.send(q.msg, q.msg.qos === 0 ? undefined : q.done)) {
        // Dropped again mid-flush: keep the rest for the next registration.
        this.queue = queued.slice(i)
        return
      }
    }
  }

  /**
   * Fails sends the broker has not answered within `sendTimeoutMs`, without a timer or a timestamp
   * per message: once a second it notes the next sequence id, and every send below a note older
   * than the timeout is overdue (receipts come in send order; precision one sweep).
   */
  private readonly sweep = (): void => {
    const now = Date.now()
    this.marks.push({ seq: this.seq, at: now })
    let overdueBelow = -1
    while (this.marks.length > 0 && now - (this.marks[0] as { at: number }).at >= this.sendTimeoutMs)
      overdueBelow = (this.marks.shift() as { seq: number }).seq
    if (overdueBelow >= 0) {
      for (const [seq, done] of this.inflight) {
        if (seq >= overdueBelow) break
        this.inflight.delete(seq)
        const err = new PublishError(
          `no receipt from the broker within ${this.sendTimeoutMs} ms on ${this.topic}`,
          { source: SOURCE },
        )
        // In a timer: a callback that throws must not become an uncaught exception.
        try {
          done(err)
        } catch (thrown) {
          this.client?.env.logger.warn('publish callback threw', { error: String(thrown) })
        }
      }
    }
    if (this.inflight.size === 0 || this.closed) this.stopSweeping()
  }

  private stopSweeping(): void {
    clearInterval(this.sweeper)
    this.sweeper = undefined
    this.marks = []
  }

  private failInflight(reason: string): void {
    this.stopSweeping()
    if (this.inflight.size === 0) return
    const all = [...this.inflight.values()]
    this.inflight.clear()
    for (const done of all) done(new PublishError(`${reason} on ${this.topic}`, { source: SOURCE }))
  }

  private failQueue(err: PublishError): void {
    const queued = this.queue
    this.queue = []
    for (const q of queued) q.done?.(err)
  }
}
