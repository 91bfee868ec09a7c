import { type OutboundMessage, PublishError } from '@iotload/sdk'
import type { Message, Producer, TopicMessages } from 'kafkajs'

const SOURCE = 'broker-kafka'
// kafkajs CompressionTypes values, inlined to avoid a runtime import outside connect().
const GZIP = 1

/**
 * Bytes of record data in one produce request, at most (roughly: payload, key, headers). Kafka
 * rejects a partition's batch over `message.max.bytes` (1 MB by default); a request under it keeps
 * every partition's batch under it too.
 */
export const MAX_REQUEST_BYTES = 900_000

interface Held {
  topic: string
  /** Approximate bytes the record adds to the request. */
  bytes: number
  message: Message
  resolve: () => void
  reject: (err: Error) => void
}

/** Options of a `Publisher`, from the plugin config. */
export interface PublisherOptions {
  acks: number
  compression: 'none' | 'gzip'
  /** Batch window in ms; 0 sends each message at once. */
  linger: number
  batchSize: number
  /** Requests in flight at once, each carrying its own set of keys. */
  maxInFlight: number
}

/** Uint8Array → Buffer without copying the bytes. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

function publishError(topic: string, err: unknown): PublishError {
  const msg = err instanceof Error ? err.message : String(err)
  return new PublishError(`publish to '${topic}' failed: ${msg}`, { source: SOURCE, cause: err })
}

/** FNV-1a of the key: picks the lane, so one key always travels in the same lane. */
export function laneOf(key: string | undefined, lanes: number): number {
  if (lanes === 1 || key === undefined) return 0
  let h = 0x811c9dc5
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193)
  return (h >>> 0) % lanes
}

/**
 * Sends messages through one kafkajs producer. The device id is the record key, so the default
 * (Java-compatible murmur2) partitioner keeps each device on one partition.
 *
 * Concurrent kafkajs `send` calls can reach the broker out of order (gzip compresses
 * asynchronously, and uncompressed sends were seen swapped under pipelining too). So the
 * publisher splits keys over `maxInFlight` lanes; each lane has one request in flight, and the
 * messages published meanwhile gather and go together as one `sendBatch` when it returns (up to
 * `batchSize`). A key always uses the same lane, so each device keeps its order while requests
 * for different devices overlap. `linger > 0` additionally holds the first message of an idle
 * lane for up to `linger` ms (kafkajs has no linger of its own).
 */
export class Publisher {
  private readonly lanes: PublishLane[]

  constructor(producer: Producer, options: PublisherOptions) {
    this.lanes = Array.from(
      { length: Math.max(1, options.maxInFlight) },
      () => new PublishLane(producer, options),
    )
  }

  /** Resolves once the broker acknowledged per `acks` (at once on the wire for acks 0). */
  send(topic: string, msg: OutboundMessage): Promise<void> {
    return this.lanes[laneOf(msg.key, this.lanes.length)]!.send(topic, msg)
  }

  /** Sends everything held in every lane; resolves when all of it settled. */
  async flush(): Promise<void> {
    await Promise.all(this.lanes.map((l) => l.flush()))
  }
}

/** One request in flight, the next batch gathering meanwhile. */
class PublishLane {
  private held: Held[] = []
  private timer: NodeJS.Timeout | undefined
  private inFlight: Promise<void> | undefined
  private readonly compression: number | undefined

  constructor(
    private readonly producer: Producer,
    private readonly options: PublisherOptions,
  ) {
    this.compression = options.compression === 'gzip' ? GZIP : undefined
  }

  /** Resolves once the broker acknowledged per `acks` (at once on the wire for acks 0). */
  send(topic: string, msg: OutboundMessage): Promise<void> {
    const message: Message = { key: msg.key ?? null, value: asBuffer(msg.payload) }
    let bytes = msg.payload.byteLength + (msg.key?.length ?? 0) + 20
    if (msg.headers) {
      message.headers = msg.headers
      for (const k in msg.headers) bytes += k.length + (msg.headers[k]?.length ?? 0) + 4
    }
    return new Promise((resolve, reject) => {
      this.held.push({ topic, bytes, message, resolve, reject })
      if (this.inFlight) return
      if (this.options.linger <= 0 || this.held.length >= this.options.batchSize) this.sendHeld()
      else this.timer ??= setTimeout(() => this.sendHeld(), this.options.linger)
    })
  }

  /** Sends everything held, batch after batch; resolves when all of it settled. */
  async flush(): Promise<void> {
    while (this.inFlight || this.held.length > 0) {
      if (!this.inFlight) this.sendHeld()
      await this.inFlight
    }
  }

  /** How many held records the next request takes: up to `batchSize` and `MAX_REQUEST_BYTES`. */
  private batchEnd(): number {
    const held = this.held
    const most = Math.min(held.length, this.options.batchSize)
    let bytes = 0
    for (let i = 0; i < most; i++) {
      bytes += held[i]!.bytes
      if (bytes > MAX_REQUEST_BYTES) return Math.max(1, i)
    }
    return most
  }

  private sendHeld(): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = undefined
    if (this.inFlight || this.held.length === 0) return
    const batch = this.held.splice(0, this.batchEnd())
    const byTopic = new Map<string, Message[]>()
    for (const h of batch) {
      const list = byTopic.get(h.topic)
      if (list) list.push(h.message)
      else byTopic.set(h.topic, [h.message])
    }
    const topicMessages: TopicMessages[] = []
    for (const [topic, messages] of byTopic) topicMessages.push({ topic, messages })
    this.inFlight = this.producer
      .sendBatch({ topicMessages, acks: this.options.acks, compression: this.compression })
      .then(
        () => {
          for (const h of batch) h.resolve()
        },
        (err: unknown) => {
          for (const h of batch) h.reject(publishError(h.topic, err))
        },
      )
      .finally(() => {
        this.inFlight = undefined
        // Whatever gathered meanwhile has waited a round trip already: send it now.
        if (this.held.length > 0) this.sendHeld()
      })
  }
}
