import type { ConnectionCredentials } from '../plugin.ts'

/** What `testBrokerPlugin` needs to exercise a plugin against its real server. */
export interface ConformanceOptions {
  /** Label for the describe block, e.g. 'nats-jetstream'. */
  name?: string
  /** Raw broker config (scenario `broker:` minus plugin/auth); parsed with plugin.configSchema inside the kit. */
  config: unknown
  /** Valid credentials, when the server needs them. */
  credentials?: ConnectionCredentials
  /** Builds a unique topic in the plugin's syntax from a suffix, e.g. s => `conf.${runId}.${s}`. */
  topic: (suffix: string) => string
  /** Wildcard subscribe test: publish to each of `topics`, expect all on `filter`. Required when capabilities.wildcards. */
  wildcard?: { filter: string; topics: string[] }
  /** Enables the drop-and-recover test: the kit runs a TCP proxy to host:port and connects through config from configFor(proxyPort). */
  proxy?: { host: string; port: number; configFor: (proxyPort: number) => unknown }
  /**
   * Enables the recovery test without a network to cut (in-process plugins): `inject` starts an
   * outage that the plugin reports and recovers from by itself, e.g. `() => memoryBus('x').outage(300)`.
   * Ignored when `proxy` is given.
   */
  outage?: { inject: () => void | Promise<void> }
  /** Wrong credentials must make connect reject with ConnectionError kind 'auth'. */
  auth?: { invalid: ConnectionCredentials; config?: unknown; valid?: ConnectionCredentials }
  /** TLS: a round trip over `config` succeeds; `unknownCaConfig`, if given, must reject with ConnectionError kind 'tls'. */
  tls?: { config: unknown; credentials?: ConnectionCredentials; unknownCaConfig?: unknown }
  /** Wait after subscribe before publishing (ZeroMQ slow joiner, consumer-group joins). @default 200 */
  settleMs?: number
  /** Per-test timeout in ms. @default 30000 */
  timeoutMs?: number
  /** QoS used for delivery-sensitive tests. @default 1 */
  qos?: 0 | 1 | 2
}

/** Options with defaults applied. */
export type ResolvedConformanceOptions = ConformanceOptions & {
  settleMs: number
  timeoutMs: number
  qos: 0 | 1 | 2
}

/** Applies the documented defaults. */
export function resolveOptions(options: ConformanceOptions): ResolvedConformanceOptions {
  return {
    ...options,
    settleMs: options.settleMs ?? 200,
    timeoutMs: options.timeoutMs ?? 30_000,
    qos: options.qos ?? 1,
  }
}

/** Every secret value the kit hands to the plugin; none may ever show up in a log line or error message. */
export function secretValues(options: ConformanceOptions): string[] {
  const all = [options.credentials, options.auth?.invalid, options.auth?.valid, options.tls?.credentials]
  const out = new Set<string>()
  for (const c of all) {
    // Short values would match by accident ("a" in any text); real secrets in tests are longer.
    if (c?.password && c.password.length >= 4) out.add(c.password)
    if (c?.token && c.token.length >= 4) out.add(c.token)
  }
  return [...out]
}
