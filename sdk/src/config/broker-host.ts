/**
 * The host of a broker address, for `BrokerPlugin.brokerHosts`: `mqtts://u:p@Broker:8883` →
 * `broker`, `tcp://[::1]:5555` → `::1`, `kafka-0:9092` → `kafka-0`. Credentials and ports are
 * dropped. An address without a host (`amqp:///vhost`) is `localhost`, where clients then dial;
 * one that cannot be read gives `undefined`.
 */
export function hostOf(address: string): string | undefined {
  if (address.trim() === '') return undefined
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(address) ? address : `tcp://${address}`
  let host: string
  try {
    host = new URL(withScheme).hostname
  } catch {
    return undefined
  }
  host = host.replace(/^\[(.*)\]$/, '$1').toLowerCase()
  return host === '' ? 'localhost' : host
}

/** `hostOf` over several addresses, each host once, unreadable ones left out. */
export function hostsOf(addresses: readonly string[]): string[] {
  return [...new Set(addresses.map(hostOf).filter((h): h is string => h !== undefined))]
}
