import { isIP } from 'node:net'
import { hostname, networkInterfaces } from 'node:os'
import type { ResolvedBroker, ResolvedScenario } from '../../scenario/load-scenario.ts'

/**
 * Where a run's brokers are, as their plugins tell (`BrokerPlugin.brokerHosts`): `local` when one
 * runs on this machine and so competes for its cores, `elsewhere` when each is on another host or
 * the path is brokerless, `unknown` when a plugin does not say.
 */
export type BrokerPlacement = { where: 'local'; host: string } | { where: 'elsewhere' } | { where: 'unknown' }

/** This machine's own names and addresses; a host that is none of them is another machine. */
export interface ThisMachine {
  isOwn(host: string): boolean
}

const LOOPBACK_V4 = /^127\.\d+\.\d+\.\d+$/

/**
 * One spelling per address: brackets, a zone id and a trailing dot dropped, IPv4 shorthand
 * (`127.1`) and IPv6 (`0:0:0:0:0:0:0:1`) in their canonical form, an IPv4-mapped IPv6 address
 * (`::ffff:7f00:1`, `::ffff:127.0.0.1`) as its IPv4.
 */
export function canonicalHost(host: string): string {
  let h = host
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/%.*$/, '')
    .replace(/\.$/, '')
  try {
    h = h.includes(':') ? new URL(`http://[${h}]`).hostname.slice(1, -1) : new URL(`http://${h}`).hostname
  } catch {
    return h
  }
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(h)
  if (mapped) {
    const hi = Number.parseInt(mapped[1]!, 16)
    const lo = Number.parseInt(mapped[2]!, 16)
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`
  }
  return h.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, '$1')
}

/**
 * Loopback and unspecified addresses, `localhost` names, the host name and every interface's
 * address. A DNS name that resolves here but is none of those counts as elsewhere (no lookup: the
 * decision is made before anything connects).
 */
export function thisMachine(): ThisMachine {
  const own = new Set<string>(['localhost', '::1', '::', '0.0.0.0'])
  const name = hostname().toLowerCase()
  own.add(name)
  own.add(name.split('.')[0] ?? name)
  for (const list of Object.values(networkInterfaces()))
    for (const a of list ?? []) own.add(canonicalHost(a.address))
  return {
    isOwn(host) {
      const h = canonicalHost(host)
      if (own.has(h) || h.endsWith('.localhost')) return true
      return isIP(h) === 4 && LOOPBACK_V4.test(h)
    },
  }
}

/** What one broker's plugin says of its hosts; a plugin that throws or answers nonsense does not say. */
function hostsOf(broker: ResolvedBroker): string[] | undefined {
  if (typeof broker.plugin.brokerHosts !== 'function') return undefined
  try {
    const hosts: unknown = broker.plugin.brokerHosts(broker.config)
    if (!Array.isArray(hosts)) return undefined
    const copy = Array.from(hosts as unknown[])
    return copy.every((h) => typeof h === 'string') ? copy : undefined
  } catch {
    return undefined
  }
}

/** The placement of the run's broker and, when it has its own, the bridge's output broker. */
export function brokerPlacement(
  resolved: ResolvedScenario,
  machine: ThisMachine = thisMachine(),
): BrokerPlacement {
  let unknown = false
  for (const broker of [resolved.broker, resolved.bridgeBroker]) {
    if (!broker) continue
    const hosts = hostsOf(broker)
    if (hosts === undefined) {
      unknown = true
      continue
    }
    const local = hosts.find((h) => machine.isOwn(h))
    if (local !== undefined) return { where: 'local', host: local }
  }
  return unknown ? { where: 'unknown' } : { where: 'elsewhere' }
}
