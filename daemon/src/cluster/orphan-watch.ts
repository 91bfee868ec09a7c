import { describeError } from '@iotload/sdk'
import type { Logger } from '../log/logger.ts'
import type { Adoption } from './coordinator.ts'
import { scripted } from './lease-scripts.ts'
import type { ClusterMember } from './member.ts'
import { RUN_KEY_TTL_S } from './task-context.ts'

/** What the watch needs from this daemon's coordinator. */
export interface Adopter {
  isActive(id: string): boolean
  /** False while this daemon may not take another run (its run limit). */
  canAdopt(): boolean
  /** Takes the run whose lock the watch has just taken (and releases it if it does not). */
  adopt(id: string, taken: Adoption): Promise<void>
}

/** Stops the watch; resolves once a scan in progress has finished. */
export type StopWatch = () => Promise<void>

/**
 * Every daemon looks, every half lease, for cluster runs whose coordinator is gone: listed in the
 * coordinated-runs set, not done, and with no coordinator lock (it expired with its daemon, or the
 * daemon stalled past its lease). The first daemon to take the lock (`SET NX PX`, counting the
 * adoption in the same script) adopts the run; the lease keeper renews the lock from then on.
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
    const [count, by] = await r.iotloadAdopt(
      k.coordinator(id),
      k.adoptionCount(id),
      k.handover(id),
      member.id,
      leaseMs,
      RUN_KEY_TTL_S,
    )
    if (count < 0) return
    try {
      await adopter.adopt(id, { count, handedOverBy: by || undefined })
    } catch (err) {
      refused.add(id)
      logger.error('cannot adopt an orphaned cluster run', { run: id, error: describeError(err) })
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
