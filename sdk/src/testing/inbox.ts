import type { InboundMessage } from '../messages.ts'
import { waitFor } from './wait.ts'

const decoder = new TextDecoder()

/**
 * Messages received on one or more subscriptions, in arrival order. Pass `push` as the
 * `onMessage` callback; payloads are copied, as plugins may reuse their buffers.
 *
 * @example
 * const inbox = new Inbox()
 * await conn.subscribe('t/+', inbox.push)
 * await inbox.waitForCount(50)
 * expect(inbox.texts()).toEqual(['m0', 'm1'])
 */
export class Inbox {
  readonly messages: InboundMessage[] = []

  /** The `onMessage` callback. */
  readonly push = (msg: InboundMessage): void => {
    const copy: InboundMessage = { topic: msg.topic, payload: Uint8Array.from(msg.payload) }
    if (msg.headers !== undefined) copy.headers = msg.headers
    this.messages.push(copy)
  }

  /** Number of messages received. */
  get length(): number {
    return this.messages.length
  }

  /** Payloads decoded as UTF-8, in arrival order. */
  texts(): string[] {
    return this.messages.map((m) => decoder.decode(m.payload))
  }

  /** Resolves once at least `count` messages arrived; rejects after `timeoutMs`. */
  waitForCount(count: number, timeoutMs = 10_000): Promise<void> {
    return waitFor(
      () => this.messages.length >= count,
      timeoutMs,
      () => `${count} messages, received ${this.messages.length}`,
    )
  }
}
