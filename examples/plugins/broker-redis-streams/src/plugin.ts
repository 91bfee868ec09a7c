import {
  type BrokerConnection,
  ClosedError,
  ConnectionError,
  type ConnectionFailureKind,
  definePlugin,
  importLib,
  type OutboundMessage,
  type PluginContext,
  PublishError,
  type Subscription,
} from '@iotload/sdk'
import type { Redis, RedisOptions } from 'ioredis'
import { type RedisStreamsConfig, redisStreamsConfigSchema } from './config.ts'
import { entryFields, StreamReader } from './stream-reader.ts'

const PACKAGE = 'iotload-broker-redis-streams'

function failureKind(err: unknown): ConnectionFailureKind {
  const text = `${(err as { code?: string }).code ?? ''} ${(err as Error).message ?? ''}`
  if (/WRONGPASS|NOAUTH|invalid (username|password)|AUTH/i.test(text)) return 'auth'
  if (/ETIMEDOUT|timed? ?out/i.test(text)) return 'timeout'
  if (/ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ECONNRESET|closed/i.test(text)) return 'unreachable'
  return 'protocol'
}

/** One connection: a client for XADD/XACK plus one blocking reader client per subscription. */
async function connect(config: RedisStreamsConfig, ctx: PluginContext): Promise<BrokerConnection> {
  const { Redis } = await importLib(() => import('ioredis'), 'ioredis', PACKAGE)
  let established = false
  const options: RedisOptions = {
    lazyConnect: true,
    connectTimeout: config.connectTimeout,
    // Commands wait through a reconnect instead of failing; publish acks stay honest.
    maxRetriesPerRequest: null,
    // Before the first connect, fail at once (so `connect` rejects); afterwards keep retrying.
    retryStrategy: (times) => (established ? Math.min(times * 100, 1000) : null),
    connectionName: ctx.clientId,
    ...(ctx.credentials?.username !== undefined ? { username: ctx.credentials.username } : {}),
    ...(ctx.credentials?.password !== undefined ? { password: ctx.credentials.password } : {}),
  }
  const main: Redis = new Redis(config.url, options)
  main.on('error', () => {}) // reported through status changes and rejected commands
  try {
    await main.connect()
  } catch (err) {
    main.disconnect()
    const kind = failureKind(err)
    throw new ConnectionError(kind, `cannot connect to Redis (${kind}): ${(err as Error).message}`, {
      source: 'broker-redis-streams',
      cause: err,
    })
  }
  established = true
  let down = false
  main.on('close', () => {
    if (down) return
    down = true
    ctx.onStatus?.('disconnected')
  })
  main.on('reconnecting', () => ctx.onStatus?.('reconnecting'))
  main.on('ready', () => {
    if (!down) return
    down = false
    ctx.onStatus?.('reconnected')
  })

  let closed = false
  const readers = new Set<StreamReader>()
  const key = (topic: string) => `${config.keyPrefix}${topic}`
  const trim = config.maxLen === undefined ? [] : ['MAXLEN', '~', config.maxLen]

  return {
    async publish(topic: string, msg: OutboundMessage): Promise<void> {
      if (closed) throw new ClosedError('connection closed', { source: 'broker-redis-streams' })
      try {
        await main.call('XADD', key(topic), ...trim, '*', ...entryFields(msg.payload, msg.key, msg.headers))
      } catch (err) {
        if (closed) throw new ClosedError('connection closed', { source: 'broker-redis-streams', cause: err })
        throw new PublishError(`XADD ${topic} failed: ${(err as Error).message}`, {
          source: 'broker-redis-streams',
          cause: err,
        })
      }
    },

    async subscribe(filter, onMessage, subscribeOptions): Promise<Subscription> {
      if (closed) throw new ClosedError('connection closed', { source: 'broker-redis-streams' })
      const stream = key(filter)
      const group = subscribeOptions?.group
      let start = '$'
      if (group) {
        try {
          await main.call('XGROUP', 'CREATE', stream, group, '$', 'MKSTREAM')
        } catch (err) {
          if (!/BUSYGROUP/.test((err as Error).message)) throw err
        }
      } else {
        // Start after the newest entry now, so a message published once subscribe resolved is seen.
        const last = (await main.call('XREVRANGE', stream, '+', '-', 'COUNT', 1)) as Array<[string, unknown]>
        start = last[0]?.[0] ?? '0-0'
      }
      const reader = main.duplicate()
      reader.on('error', () => {})
      await reader.connect()
      const r = new StreamReader(
        {
          reader,
          main,
          key: stream,
          topic: filter,
          ...(group ? { group: { name: group, consumer: ctx.clientId } } : {}),
          blockMs: config.blockMs,
          batch: config.batch,
          logger: ctx.logger,
          onMessage,
        },
        start,
      )
      readers.add(r)
      return {
        async unsubscribe() {
          readers.delete(r)
          await r.stop()
        },
      }
    },

    async close(): Promise<void> {
      if (closed) return
      closed = true
      await Promise.all([...readers].map((r) => r.stop()))
      readers.clear()
      await Promise.race([main.quit().catch(() => {}), new Promise((r) => setTimeout(r, 1000).unref())])
      main.disconnect()
    },
  }
}

/**
 * Redis Streams, written as an outside author would write a plugin: only `@iotload/sdk` (a peer
 * dependency) and its own client library. A topic is a stream; publish is `XADD` (acknowledged by
 * the server's reply), headers and the ordering key are entry fields, a subscription with a group
 * is `XREADGROUP` + `XACK` (competing consumers), without one a plain `XREAD` (fan-out).
 *
 * @example
 * broker: { plugin: redis-streams, url: redis://127.0.0.1:6379, keyPrefix: 'load:' }
 */
export default definePlugin({
  name: 'redis-streams',
  configSchema: redisStreamsConfigSchema,
  capabilities: { headers: true, publishAck: true, wildcards: false },
  connect,
})
