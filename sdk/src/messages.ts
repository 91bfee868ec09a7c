/** Delivery guarantee requested for a publish or subscription (MQTT semantics; other plugins map it). */
export type QoS = 0 | 1 | 2

/** Header (and JSON-envelope `tp`) name of the W3C trace context of a traced message. */
export const TRACEPARENT_HEADER = 'traceparent'

/** A message handed to a plugin for publishing. */
export interface OutboundMessage {
  /** Encoded payload, envelope included. */
  payload: Uint8Array
  /** Protocol headers (W3C `traceparent`, say); ignored by plugins without header support. */
  headers?: Record<string, string>
  /** Partitioning or ordering key; iotload sets the device id so each device keeps its order. */
  key?: string
  /** Requested delivery level. @default 0 */
  qos?: QoS
  /** Where an answer to this message goes (MQTT 5 response topic); ignored where the protocol has none. */
  responseTopic?: string
}

/**
 * A message delivered by a plugin. The receive timestamp is deliberately absent: the daemon
 * stamps arrival itself, at the top of its callback, so no plugin chooses its own clock.
 */
export interface InboundMessage {
  topic: string
  payload: Uint8Array
  headers?: Record<string, string>
  /** The sender's response topic (MQTT 5), where it set one. */
  responseTopic?: string
}

/** Options for a subscription; plugins ignore what their protocol has no notion of. */
export interface SubscribeOptions {
  /** @default 0 */
  qos?: QoS
  /** Consumer group / queue group / shared subscription name, for competing consumers. */
  group?: string
}

/** Handle returned by `subscribe`. */
export interface Subscription {
  /** Stops delivery; idempotent. */
  unsubscribe(): Promise<void>
  /**
   * Optional capability: holds further deliveries back until `resume()`, so a slow consumer (the
   * bridge at its concurrency limit) pushes back on the broker, where the backlog waits within the
   * broker's queue limits, instead of buffering or dropping. Plugins whose protocol cannot push
   * back leave it out. Idempotent.
   */
  pause?(): void
  /** Delivers what was held back, in order, then live messages again. Idempotent. */
  resume?(): void
  /**
   * Messages the broker holds for this subscription and has not delivered yet (AMQP queue depth,
   * JetStream `num_pending`, Kafka consumer lag), asked of the broker now. A subscription in a
   * group answers for the whole group. Optional: a plugin that cannot tell leaves it out (or
   * resolves `undefined`), and iotload then reports nothing rather than 0. Called once, at the end
   * of the drain, before `unsubscribe`; it must not throw for a broker that went away (resolve
   * `undefined`).
   */
  backlog?(): Promise<number | undefined>
}

/** A subscription that declares the pause capability. */
export type PausableSubscription = Subscription & { pause(): void; resume(): void }

/** Whether a subscription can pause (see `Subscription.pause`). */
export function isPausable(subscription: Subscription): subscription is PausableSubscription {
  return typeof subscription.pause === 'function' && typeof subscription.resume === 'function'
}
