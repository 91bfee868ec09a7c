import { inflateSync } from 'node:zlib'
import type { InboundMessage, PluginLogger, Subscription } from '@iotload/sdk'
import type { BinaryClient, Channel } from './binary-client.ts'
import {
  ackFrame,
  Cmd,
  closeConsumerFrame,
  decodePayloadSection,
  flowFrame,
  type InboundFrame,
  redeliverFrame,
  type SubscribeRequest,
  subscribeFrame,
} from './commands.ts'
import { MAX_FRAME_BYTES } from './frame-splitter.ts'
import { onOwner } from './lookup.ts'
import { ProtoReader } from './protobuf.ts'

const ZLIB = 2
const MAX_ACKS_PER_COMMAND = 1000
/** unsubscribe() waits this long for the broker's answer, then lets go. */
const CLOSE_TIMEOUT_MS = 2000
/** A MessageIdData is a few varints; anything longer is not one. */
const MAX_MESSAGE_ID_BYTES = 64
/** The most entries one batch may claim (Java producers batch at most 1000 by default). */
const MAX_BATCH = 100_000

/** What one consumer subscribes to and how it acks. */
export interface BinaryConsumerOptions {
  /** Fully qualified Pulsar topic. */
  topic: string
  /** The iotload topic the subscriber asked for; reported as InboundMessage.topic. */
  iotloadTopic: string
  subscription: string
  subType: number
  durable: boolean
  initialPosition: number
  consumerName: string
  /** Flow-control window: messages the broker may push ahead of the handler. */
  queueSize: number
  ackMode: 'after-handler' | 'before-handler'
  logger: PluginLogger
}

/**
 * One consumer over a BinaryClient: SUBSCRIBE, then FLOW permits for `queueSize` messages, topped
 * up as the handler takes them (withheld while paused, so the backlog waits in the broker). Each
 * message is acked individually after the handler returned (a throwing handler gets a redelivery
 * request instead). Batches from foreign batching producers are split; zlib batches inflated.
 */
export class BinaryConsumer implements Channel, Subscription {
  private client!: BinaryClient
  private id = 0
  private subscribed = false
  private closed = false
  private paused = false
  /** Messages handed over since the last FLOW; returned to the broker as permits. */
  private consumed = 0
  private retry: NodeJS.Timeout | undefined
  private readonly warned = new Set<string>()
  private pendingAcks: Uint8Array[] = []
  private subscribing = false

  constructor(
    private readonly options: BinaryConsumerOptions,
    private readonly onMessage: (msg: InboundMessage) => void,
  ) {}

  /**
   * Subscribes on `client` (the connection to the topic's broker), creating the subscription if
   * needed, and grants the first permits.
   */
  async start(client: BinaryClient): Promise<void> {
    this.client = client
    this.id = client.nextChannelId()
    client.consumers.set(this.id, this)
    try {
      await this.subscribe()
    } catch (err) {
      this.client.consumers.delete(this.id)
      throw err
    }
  }

  /** Back-pressure for slow subscribers (iotload's bridge): no new permits until resume(). */
  pause(): void {
    this.paused = true
  }

  resume(): void {
    this.paused = false
    this.topUp(true)
  }

  /** Closes the consumer; a durable subscription and its backlog stay on the broker. */
  async unsubscribe(): Promise<void> {
    if (this.closed) return
    this.closed = true
    clearTimeout(this.retry)
    this.flushAcks()
    this.client.consumers.delete(this.id)
    if (this.subscribed && this.client.isReady)
      await this.client
        .request((rid) => closeConsumerFrame(this.id, rid), CLOSE_TIMEOUT_MS)
        .catch(() => undefined)
    this.subscribed = false
  }

  onFrame(frame: InboundFrame): void {
    if (frame.type === Cmd.CLOSE_CONSUMER) {
      this.subscribed = false
      this.resubscribe()
      return
    }
    if (this.closed || !this.subscribed) return
    let messageId: Uint8Array | undefined
    const r = frame.body
    while (r.next()) {
      if (r.field === 2) messageId = Uint8Array.from(r.bytes())
      else r.skip()
    }
    if (messageId === undefined || frame.payload.length === 0) return
    if (messageId.length > MAX_MESSAGE_ID_BYTES) {
      // Not a MessageIdData: echoing it back in acks would let a broker make us send megabytes.
      this.warnOnce('malformed', 'a message with a malformed id was skipped')
      this.consumed++
      this.topUp(false)
      return
    }
    // before-handler: one ack per MESSAGE (a batch included), before anything is handed over.
    if (this.options.ackMode === 'before-handler') this.ack(messageId)
    let delivered = 0
    let failed = false
    try {
      const section = decodePayloadSection(frame.payload)
      if (!section.checksumOk)
        this.warnOnce('checksum', 'a message failed its CRC-32C check; delivered as received')
      const meta = readMetadata(section.metadata)
      let body = section.body
      // Capped: a hostile broker's 5 MiB zlib bomb must not inflate into gigabytes.
      if (meta.compression === ZLIB) body = inflateSync(body, { maxOutputLength: MAX_FRAME_BYTES })
      else if (meta.compression !== 0) {
        this.warnOnce(
          'compression',
          `compression type ${meta.compression} is not supported; the raw bytes are delivered`,
        )
        meta.batch = 0
      }
      if (meta.batch > 0) {
        // A count no body of this size can hold is a lie, not a reason to loop a million times.
        if (meta.batch > MAX_BATCH || meta.batch > body.length / 4)
          throw new Error(`a batch of ${meta.batch} in ${body.length} bytes`)
        for (const m of splitBatch(body, meta.batch)) {
          delivered++
          failed = this.deliver(m.payload, m.properties) || failed
        }
      } else {
        delivered = 1
        failed = this.deliver(body, meta.properties)
      }
    } catch (err) {
      this.warnOnce('malformed', `a malformed message frame was skipped: ${String(err)}`)
      delivered = Math.max(delivered, 1)
    }
    if (failed) this.client.write(redeliverFrame(this.id, messageId))
    else if (this.options.ackMode === 'after-handler') this.ack(messageId)
    this.consumed += delivered
    this.topUp(false)
  }

  onDown(): void {
    this.subscribed = false // unacked messages are redelivered by the broker
    this.pendingAcks = []
  }

  onUp(): void {
    this.resubscribe()
  }

  /**
   * Acks leave once per event-loop turn, all of the turn's messages in one ACK command: under load
   * a read of hundreds of messages costs the broker one command, not hundreds (the Java client
   * groups acks for 100 ms; a turn keeps the redelivery window after a drop far shorter).
   */
  private ack(id: Uint8Array): void {
    this.pendingAcks.push(id)
    if (this.pendingAcks.length >= MAX_ACKS_PER_COMMAND) this.flushAcks()
    else if (this.pendingAcks.length === 1) setImmediate(this.flushAcks)
  }

  private readonly flushAcks = (): void => {
    if (this.pendingAcks.length === 0) return
    const ids = this.pendingAcks
    this.pendingAcks = []
    // Lost with the connection when it is down: the broker redelivers what was never acked.
    if (this.subscribed) this.client.write(ackFrame(this.id, ids))
  }

  /** Hands one message over; true when the handler threw. */
  private deliver(payload: Uint8Array, properties: Record<string, string> | undefined): boolean {
    const msg: InboundMessage = { topic: this.options.iotloadTopic, payload }
    if (properties !== undefined) msg.headers = properties
    if (this.options.ackMode === 'before-handler') {
      this.onMessage(msg)
      return false
    }
    try {
      this.onMessage(msg)
      return false
    } catch (err) {
      this.warnOnce('handler', `subscriber callback threw; redelivery requested: ${String(err)}`)
      return true
    }
  }

  private async subscribe(): Promise<void> {
    const o = this.options
    const request: Omit<SubscribeRequest, 'requestId'> = {
      topic: o.topic,
      subscription: o.subscription,
      subType: o.subType,
      consumerId: this.id,
      consumerName: o.consumerName,
      durable: o.durable,
      initialPosition: o.initialPosition,
    }
    await onOwner(this.client, o.topic, () =>
      this.client.request((rid) => subscribeFrame({ ...request, requestId: rid })),
    )
    if (this.closed) return
    this.subscribed = true
    this.consumed = 0
    this.client.write(flowFrame(this.id, o.queueSize))
  }

  /** Returns consumed permits once half the window is used (or at once on resume). */
  private topUp(now: boolean): void {
    if (this.paused || !this.subscribed || this.consumed === 0) return
    if (!now && this.consumed < Math.max(1, this.options.queueSize >> 1)) return
    if (this.client.write(flowFrame(this.id, this.consumed))) this.consumed = 0
  }

  private resubscribe(): void {
    if (this.closed || !this.client.isReady || this.subscribing) return
    // One subscription at a time: a broker repeating CLOSE_CONSUMER must not pile up requests.
    this.subscribing = true
    this.subscribe().then(
      () => {
        this.subscribing = false
      },
      (err: unknown) => {
        this.subscribing = false
        if (this.closed || !this.client.isReady) return
        this.options.logger.warn('pulsar consumer could not subscribe again', {
          topic: this.options.iotloadTopic,
          error: String(err),
        })
        this.retry = setTimeout(() => this.resubscribe(), this.client.env.reconnectMs)
      },
    )
  }

  private warnOnce(what: string, message: string): void {
    if (this.warned.has(what)) return
    this.warned.add(what)
    this.options.logger.warn(message, { topic: this.options.iotloadTopic })
  }
}

interface Metadata {
  properties: Record<string, string> | undefined
  compression: number
  /** Messages in a producer-side batch; 0 when the entry is one plain message. */
  batch: number
}

function readMetadata(r: ProtoReader): Metadata {
  const m: Metadata = { properties: undefined, compression: 0, batch: 0 }
  while (r.next()) {
    if (r.field === 4) {
      m.properties ??= {}
      readKeyValue(r.message(), m.properties)
    } else if (r.field === 8) m.compression = r.uint()
    else if (r.field === 11) m.batch = r.uint()
    else r.skip()
  }
  return m
}

function readKeyValue(r: ProtoReader, into: Record<string, string>): void {
  let key = ''
  let value = ''
  while (r.next()) {
    if (r.field === 1) key = r.string()
    else if (r.field === 2) value = r.string()
    else r.skip()
  }
  into[key] = value
}

/** A batch entry is `[size u32][SingleMessageMetadata][payload]`; entries are read one at a time. */
function* splitBatch(
  body: Uint8Array,
  count: number,
): Generator<{ payload: Uint8Array; properties?: Record<string, string> }> {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength)
  let at = 0
  for (let i = 0; i < count; i++) {
    if (at + 4 > body.length) throw new Error('batch entry runs past the message')
    const metaSize = view.getUint32(at)
    at += 4
    if (at + metaSize > body.length) throw new Error('batch entry metadata runs past the message')
    let payloadSize = 0
    let properties: Record<string, string> | undefined
    const r = new ProtoReader(body, at, at + metaSize)
    while (r.next()) {
      if (r.field === 1) {
        properties ??= {}
        readKeyValue(r.message(), properties)
      } else if (r.field === 3) payloadSize = r.uint()
      else r.skip()
    }
    at += metaSize
    if (at + payloadSize > body.length) throw new Error('batch entry runs past the message')
    yield { payload: body.subarray(at, at + payloadSize), ...(properties && { properties }) }
    at += payloadSize
  }
}
