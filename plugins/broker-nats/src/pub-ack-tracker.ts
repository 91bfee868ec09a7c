import { ClosedError, PublishError } from '@iotload/sdk'
import type { Msg, MsgHdrs, NatsConnection, Subscription } from '@nats-io/transport-node'
import { SOURCE } from './errors.ts'

interface Pending {
  resolve: () => void
  reject: (err: Error) => void
  subject: string
  at: number
}

const decoder = new TextDecoder()

/**
 * JetStream publishing without a request per message. `js.publish` goes through the client's request
 * machinery, which builds an Error (stack capture included) and a timer for every publish: about a
 * tenth of the CPU in a 500-device run. Here every publish carries a reply subject under one inbox
 * subscription, the PubAck settles it, and one sweep timer fails the acks that never came.
 */
export class PubAckTracker {
  private readonly prefix: string
  private readonly sub: Subscription
  private readonly pending = new Map<string, Pending>()
  private seq = 0
  private timer: NodeJS.Timeout | undefined
  private closed = false

  constructor(
    private readonly nc: NatsConnection,
    inbox: string,
    private readonly timeoutMs: number,
  ) {
    this.prefix = `${inbox}.`
    this.sub = nc.subscribe(`${inbox}.*`, {
      callback: (err, m) => {
        if (!err) this.settle(m)
      },
    })
  }

  /** Publishes `payload` and resolves on the stream's PubAck. */
  publish(subject: string, payload: Uint8Array, headers: MsgHdrs | undefined): Promise<void> {
    if (this.closed) return Promise.reject(new ClosedError('connection is closed', { source: SOURCE }))
    const id = String(++this.seq)
    const done = new Promise<void>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, subject, at: Date.now() })
    })
    try {
      this.nc.publish(
        subject,
        payload,
        headers ? { reply: this.prefix + id, headers } : { reply: this.prefix + id },
      )
    } catch (err) {
      this.pending.delete(id)
      throw err
    }
    this.timer ??= setTimeout(this.sweep, this.timeoutMs)
    return done
  }

  private settle(m: Msg): void {
    const id = m.subject.slice(this.prefix.length)
    const p = this.pending.get(id)
    if (p === undefined) return
    this.pending.delete(id)
    // No stream captures the subject: the server answers with a 503 status and no body.
    if (m.data.length === 0) {
      const status = m.headers?.code ? ` (status ${m.headers.code})` : ''
      p.reject(new PublishError(`no JetStream stream captures '${p.subject}'${status}`, { source: SOURCE }))
      return
    }
    const ack = JSON.parse(decoder.decode(m.data)) as { error?: { description?: string } }
    if (ack.error) {
      p.reject(
        new PublishError(`JetStream rejected '${p.subject}': ${ack.error.description}`, { source: SOURCE }),
      )
    } else p.resolve()
  }

  /** Fails the publishes whose PubAck is overdue; pending is in publish order, so it stops at the first fresh one. */
  private readonly sweep = (): void => {
    this.timer = undefined
    const cutoff = Date.now() - this.timeoutMs
    for (const [id, p] of this.pending) {
      if (p.at > cutoff) break
      this.pending.delete(id)
      p.reject(
        new PublishError(`no PubAck for '${p.subject}' within ${this.timeoutMs} ms`, { source: SOURCE }),
      )
    }
    if (this.pending.size > 0 && !this.closed) {
      const oldest = this.pending.values().next().value as Pending
      this.timer = setTimeout(this.sweep, Math.max(1, oldest.at + this.timeoutMs - Date.now()))
    }
  }

  /** Rejects what is still pending and stops listening. Idempotent. */
  close(): void {
    if (this.closed) return
    this.closed = true
    clearTimeout(this.timer)
    this.timer = undefined
    for (const p of this.pending.values())
      p.reject(new ClosedError('connection closed before the PubAck', { source: SOURCE }))
    this.pending.clear()
    if (!this.sub.isClosed()) this.sub.unsubscribe()
  }
}
