import { describeError } from '@iotload/sdk'
import type { Logger } from '../log/logger.ts'
import type { ClusterMember } from './member.ts'

/** What the watch needs from this daemon's coordinator. */
export interface Adopter {
  isActive(id: string): boolean
  adopt(id: string, state: string): Promise<void>
}

/**
 * Every daemon looks, every half lease, for cluster runs whose coordinator is gone: listed in the
 * coordinated-runs set, not done, and with no coordinator lock (it expired with its daemon). The
 * first daemon to `SET NX PX` the lock adopts the run. Stops with the returned function.
 */
export function watchForOrphanRuns(
  member: ClusterMember,
  adopter: Adopter,
  leaseMs: number,
  logger: Logger,
): () => void {
  const k = member.keys
  const r = member.redis
  // Runs this daemon cannot coordinate (say a `${env:…}` it lacks): one error, then left alone.
  const refused = new Set<string>()
  let scanning = false
  const scan = async () => {
    if (scanning) return
    scanning = true
    try {
      for (const id of await r.smembers(k.coordinatedRuns)) {
        if (adopter.isActive(id) || refused.has(id)) continue
        const [holder, state] = await r.mget(k.coordinator(id), k.state(id))
        if (holder) continue
        if (state == null || state === 'done') {
          await r.srem(k.coordinatedRuns, id) // finished, or expired with its keys
          continue
        }
        if ((await r.set(k.coordinator(id), member.id, 'PX', leaseMs, 'NX')) !== 'OK') continue
        try {
          await adopter.adopt(id, state)
        } catch (err) {
          refused.add(id)
          await r.del(k.coordinator(id)).catch(() => {})
          logger.error('cannot adopt an orphaned cluster run', { run: id, error: describeError(err) })
        }
      }
    } catch (err) {
      logger.debug('orphaned-run scan failed', { error: describeError(err) })
    } finally {
      scanning = false
    }
  }
  const timer = setInterval(() => void scan(), Math.max(250, leaseMs / 2))
  return () => clearInterval(timer)
}
