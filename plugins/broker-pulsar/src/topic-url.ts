import { ConfigError } from '@iotload/sdk'
import type { PulsarConfig, SubscriptionType } from './config.ts'

/** A fully qualified Pulsar topic, split the way the WebSocket API paths want it. */
export interface PulsarTopic {
  domain: 'persistent' | 'non-persistent'
  tenant: string
  namespace: string
  /** Local name, '/' already replaced. */
  local: string
}

const FULL_NAME = /^(persistent|non-persistent):\/\/([^/]+)\/([^/]+)\/(.+)$/

/**
 * Maps an iotload topic to a Pulsar topic. A full name (`persistent://t/ns/x`) is taken as is;
 * anything else lives in the configured tenant/namespace, with '/' replaced (Pulsar forbids it
 * in local names).
 */
export function toPulsarTopic(
  topic: string,
  config: Pick<PulsarConfig, 'persistent' | 'tenant' | 'namespace' | 'slashReplacement'>,
): PulsarTopic {
  const full = FULL_NAME.exec(topic)
  if (full) {
    return {
      domain: full[1] as PulsarTopic['domain'],
      tenant: full[2] as string,
      namespace: full[3] as string,
      local: (full[4] as string).replaceAll('/', config.slashReplacement),
    }
  }
  if (topic.length === 0) throw new ConfigError('topic', 'empty Pulsar topic name')
  return {
    domain: config.persistent ? 'persistent' : 'non-persistent',
    tenant: config.tenant,
    namespace: config.namespace,
    local: topic.replaceAll('/', config.slashReplacement),
  }
}

function topicPath(t: PulsarTopic): string {
  return `${t.domain}/${encodeURIComponent(t.tenant)}/${encodeURIComponent(t.namespace)}/${encodeURIComponent(t.local)}`
}

function withQuery(base: string, params: Record<string, string | number | boolean | undefined>): string {
  const q = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, String(v))
  const s = q.toString()
  return s ? `${base}?${s}` : base
}

function root(url: string): string {
  return url.endsWith('/') ? url.slice(0, -1) : url
}

/** `ws://host/ws/v2/producer/{domain}/{tenant}/{ns}/{topic}?...` */
export function producerUrl(
  config: Pick<PulsarConfig, 'url' | 'batching' | 'sendTimeout'>,
  topic: PulsarTopic,
  extra: { producerName?: string; token?: string } = {},
): string {
  return withQuery(`${root(config.url)}/ws/v2/producer/${topicPath(topic)}`, {
    batchingEnabled: config.batching,
    sendTimeoutMillis: Math.round(config.sendTimeout),
    producerName: extra.producerName,
    token: extra.token,
  })
}

/** What a consumer URL needs besides the config. */
export interface ConsumerUrlOptions {
  subscription: string
  type: SubscriptionType
  mode: 'Durable' | 'NonDurable'
  consumerName?: string
  token?: string
}

/** `ws://host/ws/v2/consumer/{domain}/{tenant}/{ns}/{topic}/{subscription}?...` */
export function consumerUrl(
  config: Pick<PulsarConfig, 'url' | 'receiverQueueSize' | 'initialPosition' | 'nackRedeliveryDelay'>,
  topic: PulsarTopic,
  options: ConsumerUrlOptions,
): string {
  return withQuery(
    `${root(config.url)}/ws/v2/consumer/${topicPath(topic)}/${encodeURIComponent(options.subscription)}`,
    {
      subscriptionType: options.type,
      subscriptionMode: options.mode,
      subscriptionInitialPosition: config.initialPosition,
      receiverQueueSize: config.receiverQueueSize,
      negativeAckRedeliveryDelay: Math.round(config.nackRedeliveryDelay),
      consumerName: options.consumerName,
      token: options.token,
    },
  )
}

/** `ws://host/ws/v2/reader/{domain}/{tenant}/{ns}/{topic}?...`, used by the connect probe. */
export function readerUrl(config: Pick<PulsarConfig, 'url'>, topic: PulsarTopic, token?: string): string {
  return withQuery(`${root(config.url)}/ws/v2/reader/${topicPath(topic)}`, { token })
}

/** The URL without its query string, safe for messages (a `token` parameter is a secret). */
export function displayUrl(url: string): string {
  const q = url.indexOf('?')
  return q < 0 ? url : url.slice(0, q)
}
