import {
  type BrokerConnection,
  ClosedError,
  type InboundMessage,
  type OutboundMessage,
  type PausableSubscription,
  type PluginContext,
  type PublishCallback,
  PublishError,
  type SubscribeOptions,
} from '@iotload/sdk'
import type { IClientPublishOptions, MqttClient } from 'mqtt'
import { compileMqttFilter } from './topic-filter.ts'

/** How long a graceful end waits for the acknowledgements of publishes in flight. */
const CLOSE_GRACE_MS = 3000

interface Route {
  /** MQTT 5 subscription identifier, so overlapping filters are routed exactly. */
  id: number
  filter: string
  matches: (topic: string) => boolean
  onMessage: (msg: InboundMessage) => void
}

/** One mqtt.js client wrapped in the BrokerConnection contract. */
export class MqttConnection implements BrokerConnection {
  private readonly routes: Route[] = []
  /** Messages that arrive before any subscription exists (stored sessions deliver at connect). */
  private readonly early: InboundMessage[] = []
  private nextSubscriptionId = 1
  private connectedOnce = false
  /** Subscriptions that asked the connection to stop reading (a bridge's back-pressure). */
  private pausedBy = 0
  /** mqtt.js's done-callback of the message in hand while paused: it reads nothing until called. */
  private held: Array<() => void> = []
  /**
   * Until when a pause may hold: mqtt.js handles PINGRESP in the same queue, so a pause longer
   * than the keep-alive allows would end in a reconnect (and a clean session's backlog with it).
   * Past it messages flow again and the bridge bounds and counts its own queue.
   */
  private holdUntil = 0
  private holdTimer: NodeJS.Timeout | undefined
  private readonly maxHoldMs: number
  private closing: Promise<void> | undefined
  private readonly publishOptions: [IClientPublishOptions, IClientPublishOptions, IClientPublishOptions]
  /** MQTT 5 topic aliases are on (`topicAliases`): each publish gets options of its own. */
  topicAliases = false

  constructor(
    private readonly client: MqttClient,
    ctx: PluginContext,
    retain: boolean,
    /** MQTT 5 message expiry, ms (`messageExpiry`). */
    expiryMs: number | undefined,
    private readonly v5: boolean,
    keepaliveS = 60,
  ) {
    this.maxHoldMs = keepaliveS > 0 ? Math.min(10_000, (keepaliveS * 1000) / 4) : 10_000
    const properties =
      expiryMs !== undefined && v5 ? { messageExpiryInterval: Math.floor(expiryMs / 1000) } : undefined
    // Reused per QoS so the hot path allocates no options object per message.
    this.publishOptions = [
      { qos: 0, retain, ...(properties ? { properties } : {}) },
      { qos: 1, retain, ...(properties ? { properties } : {}) },
      { qos: 2, retain, ...(properties ? { properties } : {}) },
    ]
    client.on('message', (topic, payload, packet) =>
      this.dispatch(
        topic,
        payload,
        packet.properties?.userProperties,
        packet.properties?.subscriptionIdentifier,
        packet.properties?.responseTopic,
      ),
    )
    // mqtt.js handles the next packet (and sends this one's PUBACK) only once `done` is called,
    // and stops reading the socket meanwhile: holding it pushes back through TCP to the broker.
    client.handleMessage = (_packet, done) => {
      if (this.pausedBy > 0 && !this.closing && Date.now() < this.holdUntil) {
        this.held.push(done)
        this.holdTimer ??= setTimeout(() => {
          this.holdTimer = undefined
          this.releaseHeld()
        }, this.holdUntil - Date.now())
      } else done()
    }
    // A callback held across a reconnect belongs to the old session: acking it on the new one
    // could ack another message with the same id.
    client.on('close', () => {
      this.held = []
    })
    client.on('offline', () => ctx.onStatus?.('disconnected'))
    client.on('reconnect', () => ctx.onStatus?.('reconnecting'))
    client.on('connect', () => {
      if (this.connectedOnce) ctx.onStatus?.('reconnected')
      this.connectedOnce = true
    })
    client.on('error', (err) =>
      ctx.logger.warn('mqtt client error', { clientId: ctx.clientId, error: err.message }),
    )
  }

  publish(topic: string, msg: OutboundMessage): Promise<void> {
    if (this.closing) return Promise.reject(new ClosedError('publish after close', { source: 'broker-mqtt' }))
    const qos = msg.qos ?? 0
    let opts = this.publishOptions[qos]
    if (msg.headers) opts = { ...opts, properties: { ...opts.properties, userProperties: msg.headers } }
    // mqtt.js writes the alias it assigns into the options' properties: never into the shared ones.
    else if (this.topicAliases) opts = { ...opts, properties: { ...opts.properties } }
    if (msg.responseTopic !== undefined && this.v5)
      opts = { ...opts, properties: { ...opts.properties, responseTopic: msg.responseTopic } }
    return new Promise((resolve, reject) => {
      this.client.publish(topic, msg.payload as Buffer, opts, (err) => {
        if (err)
          reject(
            new PublishError(`publish to '${topic}' failed: ${err.message}`, {
              source: 'broker-mqtt',
              cause: err,
            }),
          )
        else resolve()
      })
    })
  }

  /** `publish` without a promise: `done` is mqtt.js's own callback (its error as the client gave it). */
  publishWith(topic: string, msg: OutboundMessage, done: PublishCallback): void {
    if (this.closing) {
      queueMicrotask(() => done(new ClosedError('publish after close', { source: 'broker-mqtt' })))
      return
    }
    const qos = msg.qos ?? 0
    let opts = this.publishOptions[qos]
    if (msg.headers) opts = { ...opts, properties: { userProperties: msg.headers } }
    this.client.publish(topic, msg.payload as Buffer, opts, done as (err?: Error) => void)
  }

  async subscribe(
    filter: string,
    onMessage: (msg: InboundMessage) => void,
    options: SubscribeOptions = {},
  ): Promise<PausableSubscription> {
    if (this.closing) throw new ClosedError('subscribe after close', { source: 'broker-mqtt' })
    const brokerFilter = options.group ? `$share/${options.group}/${filter}` : filter
    const route: Route = {
      id: this.nextSubscriptionId++,
      filter,
      matches: compileMqttFilter(filter),
      onMessage,
    }
    this.routes.push(route)
    this.flushEarly(route)
    try {
      const granted = await this.client.subscribeAsync(brokerFilter, {
        qos: options.qos ?? 0,
        ...(this.v5 ? { properties: { subscriptionIdentifier: route.id } } : {}),
      })
      const refused = granted.find((g) => g.qos >= 0x80)
      if (refused) throw new Error(`broker refused subscription to '${filter}' (reason ${refused.qos})`)
    } catch (err) {
      this.routes.splice(this.routes.indexOf(route), 1)
      throw err
    }
    let active = true
    let paused = false
    const resume = () => {
      if (!paused) return
      paused = false
      if (this.pausedBy > 0 && --this.pausedBy === 0) this.releaseHeld()
    }
    return {
      unsubscribe: async () => {
        if (!active) return
        active = false
        resume()
        this.routes.splice(this.routes.indexOf(route), 1)
        if (!this.closing) await this.client.unsubscribeAsync(brokerFilter)
      },
      /**
       * Stops reading after the message in hand (flow control is per connection in MQTT). QoS ≥ 1
       * messages wait in the broker, within its queue limits. A pause holds for at most a quarter
       * of the keep-alive (10 s at most), so the PINGRESP queued behind it is read in time.
       */
      pause: () => {
        if (paused || !active) return
        paused = true
        if (this.pausedBy++ === 0) this.holdUntil = Date.now() + this.maxHoldMs
      },
      resume,
    }
  }

  close(): Promise<void> {
    this.pausedBy = 0
    this.releaseHeld()
    this.closing ??= this.end()
    return this.closing
  }

  /**
   * mqtt.js ends gracefully (DISCONNECT, so the broker keeps the will) only once every QoS 1/2
   * publish in flight is acknowledged, and it stops reconnecting first: over a link that is gone,
   * that wait never ended, and a run stopped during an outage hung in close. Without a link the end
   * is immediate; with one, the acknowledgements get CLOSE_GRACE_MS, then the socket goes. Publishes
   * still unacknowledged then fail ("Connection closed") instead of never settling.
   */
  private async end(): Promise<void> {
    try {
      await this.endClient()
    } finally {
      // mqtt.js flushes them itself only for a clean session that never reconnects.
      ;(this.client as unknown as { _flush?: () => void })._flush?.()
    }
  }

  private async endClient(): Promise<void> {
    const client = this.client
    if (!client.connected) {
      await client.endAsync(true).catch(() => {})
      return
    }
    const letGo = setTimeout(() => client.emit('outgoingEmpty'), CLOSE_GRACE_MS)
    const destroy = setTimeout(() => client.stream?.destroy(), 2 * CLOSE_GRACE_MS)
    try {
      await client.endAsync()
    } catch {
      await client.endAsync(true).catch(() => {})
    } finally {
      clearTimeout(letGo)
      clearTimeout(destroy)
    }
  }

  private releaseHeld(): void {
    if (this.holdTimer) clearTimeout(this.holdTimer)
    this.holdTimer = undefined
    const held = this.held
    this.held = []
    for (const done of held) done()
  }

  private dispatch(
    topic: string,
    payload: Buffer,
    userProperties: Record<string, string | string[]> | undefined,
    subscriptionIds: number | number[] | undefined,
    responseTopic?: string,
  ): void {
    const headers = userProperties ? flattenUserProperties(userProperties) : undefined
    const msg: InboundMessage = headers ? { topic, payload, headers } : { topic, payload }
    if (responseTopic !== undefined) msg.responseTopic = responseTopic
    const routes = this.routes
    if (routes.length === 1) {
      routes[0]!.onMessage(msg)
    } else if (routes.length === 0) {
      if (this.early.length < MAX_EARLY_MESSAGES) this.early.push(msg)
    } else if (subscriptionIds !== undefined) {
      // The broker sends one copy per matching subscription, each tagged with its identifier.
      const ids = Array.isArray(subscriptionIds) ? subscriptionIds : [subscriptionIds]
      for (const r of routes) if (ids.includes(r.id)) r.onMessage(msg)
    } else {
      for (const r of routes) if (r.matches(topic)) r.onMessage(msg)
    }
  }

  private flushEarly(route: Route): void {
    if (this.early.length === 0) return
    const pending = this.early.splice(0)
    for (const m of pending) {
      if (route.matches(m.topic)) route.onMessage(m)
      else this.early.push(m)
    }
  }
}

const MAX_EARLY_MESSAGES = 100_000

function flattenUserProperties(props: Record<string, string | string[]>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(props)) out[k] = Array.isArray(v) ? v.join(',') : v
  return out
}
