/**
 * The host of a broker address, for `BrokerPlugin.brokerHosts`: `mqtts://u:p@Broker:8883` →
 * `broker`, `tcp://[::1]:5555` → `::1`, `kafka-0:9092` → `kafka-0`. Credentials and ports are
 * dropped; an address that names no host gives `undefined`.
 */
export function hostOf(address: string): string | undefined {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(address) ? address : `tcp://${address}`
  let host: string
  try {
    host = new URL(withScheme).hostname
  } catch {
    return undefined
  }
  host = host.replace(/^\[(.*)\]$/, '$1').toLowerCase()
  return host === '' ? undefined : host
}

/** `hostOf` over several addresses, unknown ones left out. */
export function hostsOf(addresses: readonly string[]): string[] {
  return addresses.map(hostOf).filter((h): h is string => h !== undefined)
}
