import { Redis, type RedisOptions } from 'ioredis'
import type { Logger } from '../log/logger.ts'
import { secrets } from '../log/secret-registry.ts'

/** How to reach the cluster's Redis. */
export interface RedisSettings {
  /** `redis://[user:pass@]host:port[/db]`, or `rediss://` for TLS. */
  url: string
  /** Password when not in the URL (IOTLOAD_CLUSTER_PASSWORD). */
  password?: string | undefined
  /** Extra TLS options (CA, client certificate) for `rediss://`. */
  tls?: RedisOptions['tls']
}

/** The URL without its password, for logs and errors. */
export function redactRedisUrl(url: string): string {
  try {
    const u = new URL(url)
    if (u.password) u.password = '***'
    return u.toString()
  } catch {
    return '<unparseable redis url>'
  }
}

/**
 * A Redis client that reconnects forever (ioredis' own retry, capped backoff), so a Redis restart
 * is survived; callers re-register on `ready`. Passwords are registered with the log scrubber.
 */
export function createRedis(s: RedisSettings, logger: Logger, name: string): Redis {
  let urlPassword: string | undefined
  try {
    const u = new URL(s.url)
    if (u.password) urlPassword = decodeURIComponent(u.password)
    if (u.protocol !== 'redis:' && u.protocol !== 'rediss:')
      throw new Error(`cluster URL must start with redis:// or rediss://, got ${u.protocol}//`)
  } catch (err) {
    if ((err as Error).message.startsWith('cluster URL')) throw err
    throw new Error(`cluster URL is not a URL: ${redactRedisUrl(s.url)}`)
  }
  if (urlPassword) secrets.add(urlPassword)
  if (s.password) secrets.add(s.password)
  const options: RedisOptions = {
    connectionName: `iotload-${name}`,
    maxRetriesPerRequest: null,
    enableOfflineQueue: true,
    retryStrategy: (times) => Math.min(200 + times * 200, 2000),
    lazyConnect: false,
  }
  if (s.password) options.password = s.password
  if (s.tls || s.url.startsWith('rediss:')) options.tls = { ...(s.tls ?? {}) }
  const redis = new Redis(s.url, options)
  let lastLog = 0
  redis.on('error', (err: Error) => {
    // ioredis emits one error per retry: one line every 10 s is enough.
    if (Date.now() - lastLog < 10_000) return
    lastLog = Date.now()
    logger.warn('redis connection problem; retrying', {
      url: redactRedisUrl(s.url),
      error: secrets.scrub(err.message),
    })
  })
  return redis
}
