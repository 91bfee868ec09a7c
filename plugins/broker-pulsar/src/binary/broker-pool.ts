import { BinaryClient, clip } from './binary-client.ts'
import { lookupFrame } from './commands.ts'

/** Where producers and consumers connect; see the `connectVia` option. */
export type ConnectVia = 'lookup' | 'url'

/**
 * The connections of one iotload connection: the one to the service URL (lookups, and data when
 * the topic's broker is that one), plus one per other broker a lookup named: directly to it, or
 * through the Pulsar proxy at the service URL (CONNECT with proxy_to_broker_url) when the lookup
 * says to proxy through. With `connectVia: url` everything stays on the service URL connection.
 */
export class BrokerPool {
  private readonly others = new Map<string, Promise<BinaryClient>>()
  private closed = false

  constructor(
    readonly service: BinaryClient,
    private readonly via: ConnectVia,
  ) {}

  /** The connection to register a topic's producer or consumer on. */
  async clientFor(topic: string): Promise<BinaryClient> {
    if (this.via === 'url') return this.service
    const r = await this.service.request((rid) => lookupFrame(topic, rid))
    const l = r.lookup
    if (l === undefined || l.brokerUrl === undefined) return this.service
    // Only broker URLs of the binary protocol are dialled (the credentials go along in CONNECT).
    if (!/^pulsar(\+ssl)?:\/\//.test(l.brokerUrl))
      throw new Error(`the lookup of ${topic} named ${clip(l.brokerUrl)}, not a pulsar:// broker URL`)
    const env = this.service.env
    if (!l.proxyThroughServiceUrl && sameEndpoint(l.brokerUrl, env.host, env.port)) return this.service
    const key = `${l.proxyThroughServiceUrl ? 'proxied' : 'direct'} ${l.brokerUrl}`
    let client = this.others.get(key)
    if (client === undefined) {
      client = this.open(l.brokerUrl, l.proxyThroughServiceUrl)
      this.others.set(key, client)
      client.catch(() => this.others.delete(key))
    }
    return client
  }

  async close(): Promise<void> {
    this.closed = true
    const all = [...this.others.values()]
    this.others.clear()
    await Promise.all([
      this.service.close(),
      ...all.map((c) => c.then((client) => client.close()).catch(() => undefined)),
    ])
  }

  private async open(brokerUrl: string, proxied: boolean): Promise<BinaryClient> {
    const base = this.service.env
    const client = proxied
      ? new BinaryClient({
          ...base,
          proxyToBroker: hostPort(brokerUrl),
          where: `${base.where} (proxy to ${clip(brokerUrl)})`,
        })
      : new BinaryClient({ ...base, ...endpoint(brokerUrl), where: clip(brokerUrl) })
    await client.open()
    if (this.closed) {
      await client.close()
      throw new Error('connection closed')
    }
    return client
  }
}

function endpoint(url: string): { host: string; port: number } {
  const u = new URL(url)
  const defaultPort = u.protocol === 'pulsar+ssl:' ? 6651 : 6650
  return { host: u.hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(u.port || defaultPort) }
}

/** The proxy wants the target as `host:port`, not as a URL. */
function hostPort(url: string): string {
  const e = endpoint(url)
  return `${e.host.includes(':') ? `[${e.host}]` : e.host}:${e.port}`
}

function sameEndpoint(url: string, host: string, port: number): boolean {
  try {
    const e = endpoint(url)
    return e.host === host && e.port === port
  } catch {
    return false
  }
}
