import type { z } from 'zod'
import type { InboundMessage, OutboundMessage, SubscribeOptions, Subscription } from './messages.ts'

/** What a plugin's protocol can do; the daemon and the conformance kit adapt to it. */
export interface PluginCapabilities {
  /** Messages carry key/value headers end to end. */
  headers: boolean
  /** `publish` resolves only once the broker acknowledged the message. */
  publishAck: boolean
  /** `subscribe` accepts wildcard filters. */
  wildcards: boolean
  /**
   * How every subscriber gets every message (`consumer.mode: fanout`): `subscription`, each
   * subscription without a group does (MQTT, NATS); `group`, each subscriber needs a group of its
   * own (an AMQP queue, a Kafka consumer group, a Pulsar subscription). Absent: the plugin cannot
   * fan out, and a fan-out scenario is refused before anything connects.
   */
  fanout?: 'subscription' | 'group'
}

/** Wildcard tokens of the plugin's own filter syntax; used to derive a consumer filter from a topic template. */
export interface WildcardSyntax {
  /** Matches exactly one topic level. @default '+' */
  single: string
  /** Matches the rest of the topic. @default '#' */
  multi: string
}

/** Connection state changes a plugin reports so the daemon can count outages. */
export type ConnectionStatus = 'connected' | 'disconnected' | 'reconnecting' | 'reconnected'

/** Minimal structured logger handed to plugins; secrets are scrubbed by the daemon's implementation. */
export interface PluginLogger {
  debug(msg: string, fields?: Record<string, unknown>): void
  info(msg: string, fields?: Record<string, unknown>): void
  warn(msg: string, fields?: Record<string, unknown>): void
  error(msg: string, fields?: Record<string, unknown>): void
}

/** Role of a connection within a run. */
export type ConnectionRole = 'producer' | 'consumer' | 'bridge-in' | 'bridge-out' | 'probe'

/** Per-connection credentials, already rendered for this device (`dev-{device}` → `dev-42`). */
export interface ConnectionCredentials {
  username?: string
  password?: string
  token?: string
  /** This device's client certificate (PEM), instead of `tls.cert`; with `key`. */
  cert?: string
  /** Its private key (PEM, secret). */
  key?: string
}

/** A message the broker publishes for a connection that ends without saying goodbye. */
export interface ConnectionWill {
  topic: string
  payload: string
  /** @default 0 */
  qos: 0 | 1 | 2
  /** @default false */
  retain: boolean
}

/** Everything a plugin needs to know about one connection besides its parsed config. */
export interface PluginContext {
  /**
   * Which role opens the connection. Brokerless plugins (ZeroMQ) use it to pick bind/connect
   * endpoints; a bridge opens one `bridge-in` and one `bridge-out` connection.
   */
  role: ConnectionRole
  /** Unique per connection within a run; MQTT client id, Kafka client id, … */
  clientId: string
  credentials?: ConnectionCredentials
  /** This device's last will (`producer.will`, rendered for it), where the protocol has one (MQTT). */
  will?: ConnectionWill
  logger: PluginLogger
  /** Called on every state change after the first successful connect. */
  onStatus?: (status: ConnectionStatus, detail?: string) => void
}

/** Completion of `BrokerConnection.publishWith`: no argument on success, the error otherwise. */
export type PublishCallback = (err?: Error) => void

/** An open connection to a broker. Plugins supply protocol primitives only: no retries, timing or metrics. */
export interface BrokerConnection {
  /** Resolves when the broker acknowledged (capability `publishAck`), or once handed to the client otherwise. */
  publish(topic: string, msg: OutboundMessage): Promise<void>
  /**
   * Optional hot-path twin of `publish`: the same semantics, reported through `done` (called once,
   * maybe before `publishWith` returns: no argument where `publish` would resolve, the error where
   * it would reject) instead of a promise per message. The engine passes one shared callback for every
   * fire-and-forget send, so a plugin that implements it lets a send allocate no closure or promise.
   */
  publishWith?(topic: string, msg: OutboundMessage, done: PublishCallback): void
  /** Filters use the plugin's own syntax (see `wildcardSyntax`). */
  subscribe(
    filter: string,
    onMessage: (msg: InboundMessage) => void,
    options?: SubscribeOptions,
  ): Promise<Subscription>
  /** Releases every socket and timer. Idempotent. */
  close(): Promise<void>
}

/** A broker plugin: a named factory of connections with a validated config. */
export interface BrokerPlugin<C = unknown> {
  /** Short name used in scenarios: `broker.plugin: mqtt`. */
  readonly name: string
  /** Validates the scenario's `broker` section (minus `plugin` and `auth`); parsed once. */
  readonly configSchema: z.ZodType<C, unknown>
  readonly capabilities: PluginCapabilities
  /** @default { single: '+', multi: '#' } */
  readonly wildcardSyntax?: WildcardSyntax
  /** Opens one connection; rejects with a `ConnectionError` whose `kind` says why. */
  connect(config: C, ctx: PluginContext): Promise<BrokerConnection>
  /**
   * Hosts of the broker processes `config` reaches (`127.0.0.1`, `kafka-0.svc`), for
   * `run.workers: auto`, which leaves a broker on the run's own machine half its cores. An empty
   * list: the run's own sockets are the only ends (a brokerless path). Absent: iotload cannot tell,
   * and `auto` counts every core.
   */
  brokerHosts?(config: C): string[]
}

/**
 * Declares a broker plugin with its config type inferred from the schema.
 *
 * @example
 * export default definePlugin({
 *   name: 'mqtt',
 *   configSchema: mqttConfigSchema,
 *   capabilities: { headers: true, publishAck: true, wildcards: true },
 *   async connect(config, ctx) { ... },
 * })
 */
export function definePlugin<S extends z.ZodType>(plugin: {
  name: string
  configSchema: S
  capabilities: PluginCapabilities
  wildcardSyntax?: WildcardSyntax
  connect(config: z.output<S>, ctx: PluginContext): Promise<BrokerConnection>
  brokerHosts?(config: z.output<S>): string[]
}): BrokerPlugin<z.output<S>> {
  return plugin as BrokerPlugin<z.output<S>>
}

/** True when `value` has the shape of a `BrokerPlugin`; used by the loader on untrusted modules. */
export function isBrokerPlugin(value: unknown): value is BrokerPlugin {
  if (typeof value !== 'object' || value === null) return false
  const v = value as Record<string, unknown>
  return (
    typeof v.name === 'string' &&
    typeof v.connect === 'function' &&
    typeof v.configSchema === 'object' &&
    v.configSchema !== null &&
    typeof (v.configSchema as { safeParse?: unknown }).safeParse === 'function' &&
    typeof v.capabilities === 'object' &&
    v.capabilities !== null
  )
}
