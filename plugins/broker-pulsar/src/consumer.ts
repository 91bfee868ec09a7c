import type { InboundMessage, PluginLogger, Subscription } from '@iotload/sdk'
import { ManagedSocket, type SocketEnv } from './managed-socket.ts'

/** A message as the WebSocket API consumer endpoint delivers it. */
interface ConsumerFrame {
  messageId?: string
  payload?: string
  properties?: Record<string, string>
  key?: string
}

/** Frames the consumer sends back. */
export function ackFrame(messageId: string): string {
  return `{"messageId":${JSON.stringify(messageId)}}`
}

/** Asks for a redelivery of a message the handler could not take. */
export function nackFrame(messageId: string): string {
  return `{"type":"negativeAcknowledge","messageId":${JSON.stringify(messageId)}}`
}

/** Options of one consumer socket. */
export interface ConsumerOptions {
  /** The iotload topic the subscriber asked for; reported as InboundMessage.topic. */
  topic: string
  ackMode: 'after-handler' | 'before-handler'
  logger: PluginLogger
}

/**
 * One WebSocket consumer: decodes each message, hands it to the subscriber and acks it (the
 * WebSocket service stops pushing once `receiverQueueSize` messages are unacked).
 */
export class PulsarConsumer implements Subscription {
  private readonly socket: ManagedSocket
  private warnedHandlerError = false
  /** Acks withheld while paused; the service stops pushing after `receiverQueueSize` of them. */
  private held: string[] | undefined

  constructor(
    env: SocketEnv,
    url: string,
    private readonly onMessage: (msg: InboundMessage) => void,
    private readonly options: ConsumerOptions,
  ) {
    this.socket = new ManagedSocket(env, url, {
      onMessage: (data) => this.onFrame(data),
      onOpen: () => undefined,
      onDown: () => undefined, // unacked messages are redelivered by the broker
    })
  }

  /** Opens the consumer socket (creating the subscription if needed). */
  start(): Promise<void> {
    return this.socket.open()
  }

  /**
   * Back-pressure for slow subscribers (iotload's bridge): acks are withheld, so the WebSocket
   * service stops pushing once `receiverQueueSize` messages are unacked, and the rest waits in
   * the broker. Without effect in `before-handler` ack mode.
   */
  pause(): void {
    this.held ??= []
  }

  /** Sends the withheld acks; delivery resumes. */
  resume(): void {
    const held = this.held
    this.held = undefined
    if (held !== undefined) for (const frame of held) this.socket.send(frame)
  }

  /** Closes the consumer socket; a durable subscription and its backlog stay on the broker. */
  unsubscribe(): Promise<void> {
    return this.socket.close()
  }

  private onFrame(data: string): void {
    let frame: ConsumerFrame
    try {
      frame = JSON.parse(data) as ConsumerFrame
    } catch {
      return
    }
    const id = frame.messageId
    if (typeof id !== 'string' || typeof frame.payload !== 'string') return // e.g. endOfTopic answers
    const msg: InboundMessage = { topic: this.options.topic, payload: Buffer.from(frame.payload, 'base64') }
    const props = frame.properties
    if (props !== undefined) {
      for (const _ in props) {
        msg.headers = props
        break
      }
    }
    if (this.options.ackMode === 'before-handler') {
      this.socket.send(ackFrame(id))
      this.onMessage(msg)
      return
    }
    try {
      this.onMessage(msg)
    } catch (err) {
      this.socket.send(nackFrame(id))
      if (!this.warnedHandlerError) {
        this.warnedHandlerError = true
        this.options.logger.warn('subscriber callback threw; message negatively acked for redelivery', {
          topic: this.options.topic,
          error: String(err),
        })
      }
      return
    }
    if (this.held !== undefined) this.held.push(ackFrame(id))
    else this.socket.send(ackFrame(id))
  }
}
