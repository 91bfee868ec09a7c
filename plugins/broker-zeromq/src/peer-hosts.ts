import { type ConnectionRole, hostOf } from '@iotload/sdk'
import type { ZeromqConfig } from './config.ts'
import { planSocket } from './socket-plan.ts'

const RUN_ROLES: readonly ConnectionRole[] = ['producer', 'consumer', 'bridge-in', 'bridge-out']
/** Hosts a bind listens on for every address of the machine, or that only this machine dials. */
const ANY_OR_LOOPBACK = /^(\*|0\.0\.0\.0|::|localhost|::1|127\.\d+\.\d+\.\d+)$/

/** `tcp://host:port` split into its host and port; other transports as they are. */
function endpointParts(address: string): { host: string | undefined; port: string } {
  const m = /^tcp:\/\/(.*):(\d+|\*)$/.exec(address)
  if (!m) return { host: undefined, port: address }
  return { host: m[1]!.replace(/^\[(.*)\]$/, '$1').toLowerCase(), port: m[2]! }
}

/**
 * Whether a connect address reaches a socket the run binds itself: the same address, or the same
 * TCP port where the bind listens on every address (`*`, `0.0.0.0`) or on loopback and the connect
 * dials a loopback name.
 */
function boundByRun(address: string, bound: readonly string[]): boolean {
  if (bound.includes(address)) return true
  const to = endpointParts(address)
  const toHost = to.host
  if (toHost === undefined) return false
  return bound.some((b) => {
    const at = endpointParts(b)
    if (at.host === undefined || at.port !== to.port) return false
    return at.host === toHost || (ANY_OR_LOOPBACK.test(at.host) && ANY_OR_LOOPBACK.test(toHost))
  })
}

/**
 * Hosts of the peers a run's sockets dial that none of its own roles binds: a proxy (an XSUB/XPUB
 * device) or another process. iotload binding its own ends is a brokerless path: `[]`. An `ipc://`
 * peer is on this machine; `inproc://` is inside the process.
 */
export function zeromqPeerHosts(config: ZeromqConfig): string[] {
  const plans = RUN_ROLES.flatMap((role) => {
    try {
      return [planSocket(config, role)]
    } catch {
      return [] // a role the config does not serve: no socket, no peer
    }
  })
  const bound = plans.filter((p) => p.side === 'bind').flatMap((p) => p.addresses)
  const hosts = new Set<string>()
  for (const p of plans) {
    if (p.side !== 'connect') continue
    for (const address of p.addresses) {
      if (address.startsWith('inproc://') || boundByRun(address, bound)) continue
      const host = address.startsWith('ipc://') ? 'localhost' : hostOf(address)
      if (host !== undefined) hosts.add(host)
    }
  }
  return [...hosts]
}
