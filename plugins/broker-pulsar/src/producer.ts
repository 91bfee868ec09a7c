import { type OutboundMessage, PublishError } from '@iotload/sdk'
import { ManagedSocket, type SocketEnv } from './managed-socket.ts'

interface Pending {
  resolve: () => void
  reject: (err: Error) => void
}

interface Queued {
  frame: string
  context: string | undefined
  pending: Pending | undefined
}

/** The broker's answer to one published message. */
interface ProducerAck {
  result?: string
  context?: string
  errorMsg?: string
}

const SOURCE = 'broker-pulsar'
const OK_PREFIX = '{"result":"ok"'
const CONTEXT_KEY = '"context":"'

/** Encodes one OutboundMessage as a WebSocket API producer frame, without needless copies. */
export function encodeProducerFrame(msg: OutboundMessage, context: string | undefined): string {
  const p = msg.payload
  let frame = `{"payload":"${Buffer.from(p.buffer, p.byteOffset, p.byteLength).toString('base64')}"`
  if (msg.key !== undefined) frame += `,"key":${JSON.stringify(msg.key)}`
  if (msg.headers !== undefined) frame += `,"properties":${JSON.stringify(msg.headers)}`
  if (context !== undefined) frame += `,"context":"${context}"`
  return `${frame}}`
}

/**
 * One WebSocket producer for one topic. Publishes resolve on the broker's ack for their
 * `context` (QoS 0: once written); messages sent but unacked when the socket drops are rejected,
 * publishes made while it (re)opens wait in a bounded queue.
 */
export class PulsarProducer {
  private readonly socket: ManagedSocket
  private readonly inflight = new Map<string, Pending>()
  private queue: Queued[] = []
  private seq = 0
  private closed = false

  constructor(
    env: SocketEnv,
    url: string,
    private readonly maxQueued: number,
    private readonly where: string,
  ) {
    this.socket = new ManagedSocket(env, url, {
      onMessage: (data) => this.onAck(data),
      onOpen: () => this.flush(),
      onDown: (reason) => this.failInflight(`connection lost before the broker acked (${reason})`),
    })
  }

  /** Opens the producer socket; on failure every queued publish is rejected with the reason. */
  async start(): Promise<void> {
    try {
      await this.socket.open()
    } catch (err) {
      const queued = this.queue
      this.queue = []
      for (const q of queued)
        q.pending?.reject(
          new PublishError(`cannot open producer on ${this.where}`, { source: SOURCE, cause: err }),
        )
      throw err
    }
  }

  /** Sends one message; see the class comment for when it resolves. */
  publish(msg: OutboundMessage): Promise<void> {
    if (this.closed)
      return Promise.reject(new PublishError(`producer on ${this.where} is closed`, { source: SOURCE }))
    const acked = msg.qos !== 0
    const context = acked ? String(++this.seq) : undefined
    const frame = encodeProducerFrame(msg, context)
    if (this.queue.length === 0 && this.socket.isOpen) {
      this.socket.send(frame)
      if (!acked) return Promise.resolve()
      return new Promise((resolve, reject) => {
        this.inflight.set(context as string, { resolve, reject })
      })
    }
    if (this.queue.length >= this.maxQueued)
      return Promise.reject(
        new PublishError(`${this.maxQueued} publishes already wait for the producer on ${this.where}`, {
          source: SOURCE,
        }),
      )
    if (!acked) {
      this.queue.push({ frame, context, pending: undefined })
      return Promise.resolve()
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ frame, context, pending: { resolve, reject } })
    })
  }

  /** Closes the socket and rejects whatever is still waiting. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.socket.close()
    this.failInflight('producer closed before the broker acked')
    const queued = this.queue
    this.queue = []
    for (const q of queued)
      q.pending?.reject(new PublishError(`producer on ${this.where} closed`, { source: SOURCE }))
  }

  private onAck(data: string): void {
    // Fast path for the usual answer, {"result":"ok","messageId":"…","context":"<digits>"…}.
    if (data.startsWith(OK_PREFIX)) {
      const at = data.indexOf(CONTEXT_KEY, OK_PREFIX.length)
      if (at > 0) {
        const start = at + CONTEXT_KEY.length
        const context = data.slice(start, data.indexOf('"', start))
        const pending = this.inflight.get(context)
        if (pending !== undefined) {
          this.inflight.delete(context)
          pending.resolve()
        }
        return
      }
    }
    let ack: ProducerAck
    try {
      ack = JSON.parse(data) as ProducerAck
    } catch {
      return
    }
    if (ack.context === undefined) return
    const pending = this.inflight.get(ack.context)
    if (pending === undefined) return
    this.inflight.delete(ack.context)
    if (ack.result === 'ok') pending.resolve()
    else
      pending.reject(
        new PublishError(
          `broker rejected the message on ${this.where}: ${ack.result ?? '?'} ${ack.errorMsg ?? ''}`,
          {
            source: SOURCE,
          },
        ),
      )
  }

  private flush(): void {
    const queued = this.queue
    this.queue = []
    for (const q of queued) {
      if (!this.socket.send(q.frame)) {
        // Dropped again mid-flush: keep the rest for the next open.
        this.queue = queued.slice(queued.indexOf(q))
        return
      }
      if (q.pending !== undefined && q.context !== undefined) this.inflight.set(q.context, q.pending)
    }
  }

  private failInflight(reason: string): void {
    if (this.inflight.size === 0) return
    const all = [...this.inflight.values()]
    this.inflight.clear()
    for (const p of all) p.reject(new PublishError(`${reason} on ${this.where}`, { source: SOURCE }))
  }
}
