import { type ConnectionCredentials, loadTlsMaterial } from '@iotload/sdk'
import type { Options, SocketOptions } from 'amqplib'
import type { AmqpConfig } from './config.ts'

/**
 * RabbitMQ's built-in account. AMQP 0-9-1 has no anonymous login, so a scenario without
 * `broker.auth` logs in as guest/guest, which RabbitMQ accepts from localhost only. This is
 * what amqplib does for a URL without credentials; the plugin states it here instead of
 * relying on that library default.
 */
export const DEFAULT_CREDENTIALS = { username: 'guest', password: 'guest' } as const

/** Username and password for the AMQP PLAIN login. */
export interface AmqpLogin {
  username: string
  password: string
}

/**
 * Picks the login: the per-connection credentials when any are given (a `token` serves as the
 * password, as RabbitMQ's OAuth 2 backend expects), otherwise {@link DEFAULT_CREDENTIALS}.
 */
export function resolveLogin(credentials: ConnectionCredentials | undefined): AmqpLogin {
  if (!credentials) return { ...DEFAULT_CREDENTIALS }
  const { username, password, token } = credentials
  if (username === undefined && password === undefined && token === undefined)
    return { ...DEFAULT_CREDENTIALS }
  return { username: username ?? '', password: password ?? token ?? '' }
}

/** Whole seconds for the AMQP heartbeat; 0 disables it, anything shorter than 1 s rounds up. */
export function heartbeatSeconds(ms: number): number {
  if (ms <= 0) return 0
  return Math.max(1, Math.round(ms / 1000))
}

/** amqplib's connect target (an object, so the password never travels inside a URL string). */
export function connectTarget(config: AmqpConfig, login: AmqpLogin): Options.Connect {
  const url = new URL(config.url)
  const protocol = url.protocol === 'amqps:' ? 'amqps' : 'amqp'
  const path = url.pathname.replace(/^\//, '')
  return {
    protocol,
    hostname: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port ? Number(url.port) : protocol === 'amqps' ? 5671 : 5672,
    vhost: path === '' ? '/' : decodeURIComponent(path),
    username: login.username,
    password: login.password,
    heartbeat: heartbeatSeconds(config.heartbeat),
  }
}

/** Socket options: connect timeout, no Nagle delay, the client id as connection name, TLS material. */
export async function socketOptions(config: AmqpConfig, clientId: string): Promise<SocketOptions> {
  const options: SocketOptions = {
    timeout: config.connectTimeout,
    noDelay: true,
    clientProperties: { connection_name: clientId },
  }
  if (config.url.startsWith('amqps:') && config.tls) Object.assign(options, await loadTlsMaterial(config.tls))
  return options
}
