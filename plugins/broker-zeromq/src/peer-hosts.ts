import { type ConnectionRole, hostOf } from '@iotload/sdk'
import type { ZeromqConfig } from './config.ts'
import { planSocket } from './socket-plan.ts'

const RUN_ROLES: readonly ConnectionRole[] = ['producer', 'consumer', 'bridge-in', 'bridge-out']

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
  const bound = new Set(plans.filter((p) => p.side === 'bind').flatMap((p) => p.addresses))
  const hosts = new Set<string>()
  for (const p of plans) {
    if (p.side !== 'connect') continue
    for (const address of p.addresses) {
      if (bound.has(address) || address.startsWith('inproc://')) continue
      const host = address.startsWith('ipc://') ? 'localhost' : hostOf(address)
      if (host !== undefined) hosts.add(host)
    }
  }
  return [...hosts]
}
