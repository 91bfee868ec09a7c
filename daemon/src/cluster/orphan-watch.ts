import { describeError } from '@iotload/sdk'
import type { Logger } from '../log/logger.ts'
import { scripted } from './claims.ts'
import type { ClusterMember } from './member.ts'

/** What the watch needs from this daemon's coordinator. */
export interface Adopter {
  isActive(id: string): boolean
  /** False while this daemon may not take another run (its run limit). */
  canAdopt(): boolean
  adopt(id: string, state: string): Promise<void>
}

/** Stops the watch; resolves once a scan in progress has finished. */
export type StopWatch = () => Promise<void>

/**
 * Every daemon looks, every half lease, for cluster runs whose coordinator is gone: listed in the
 * coordinated-runs set, not done, and with no coordinator lock (it expired with its daemon). The
 * first daemon to `SET NX PX` the lock adopts the run, renewing the lock while it reads the plan
 * and loads the plugin (the coordinator renews it from then on).
 */
export function watchForOrphanRuns(
  member: ClusterMember,
  adopter: Adopter,
  leaseMs: number,
  logger: Logger,
): StopWatch {
  const k = member.keys
  const r = scripted(member.redis)
  // Runs this daemon cannot coordinate (say a `${env:…}` it lacks): one error, then left alone.
  const refused = new Set<string>()
  let closing = false
  let scanning: Promise<void> | undefined

  const tryAdopt = async (id: string) => {
    const lock = k.coordinator(id)
    if ((await r.set(lock, member.id, 'PX', leaseMs, 'NX')) !== 'OK') return
    const renew = setInterval(() => {
      void r.iotloadRenewClaim(lock, member.id, leaseMs).catch(() => 0)
    }, leaseMs / 3)
    try {
      // Checked again now that the lock is ours: the run may have ended since the scan listed it.
      const state = await r.get(k.state(id))
      if (closing || state === null || state === 'done') {
        if (state === null || state === 'done') await r.srem(k.coordinatedRuns, id)
        await r.iotloadReleaseClaim(lock, member.id)
        return
      }
      await adopter.adopt(id, state)
    } catch (err) {
      refused.add(id)
      await r.iotloadReleaseClaim(lock, member.id).catch(() => 0)
      logger.error('cannot adopt an orphaned cluster run', { run: id, error: describeError(err) })
    } finally {
      clearInterval(renew)
    }
  }

  const scan = async () => {
    try {
      for (const id of await r.smembers(k.coordinatedRuns)) {
        if (closing || !adopter.canAdopt()) return
        if (adopter.isActive(id) || refused.has(id)) continue
        const [holder, state] = await r.mget(k.coordinator(id), k.state(id))
        if (holder) continue
        if (state == null || state === 'done') {
          await r.srem(k.coordinatedRuns, id) // finished, or expired with its keys
          continue
        }
        await tryAdopt(id)
      }
    } catch (err) {
      logger.debug('orphaned-run scan failed', { error: describeError(err) })
    }
  }

  const timer = setInterval(
    () => {
      if (scanning || closing) return
      scanning = scan().finally(() => {
        scanning = undefined
      })
    },
    Math.max(250, leaseMs / 2),
  )
  return async () => {
    closing = true
    clearInterval(timer)
    await scanning
  }
}
