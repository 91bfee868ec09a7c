import { describeError } from '@iotload/sdk'
import type { TopicClaims } from './claims.ts'
import type { RunPlan } from './plan.ts'
import { readState, sleep, type TaskContext } from './task-context.ts'

/** What a claiming task (consumer or bridge) does on each turn of its loop. */
export interface ClaimLoopHooks {
  /** Every turn (100 ms), before the lease bookkeeping: e.g. roll ended seconds. */
  onTurn?(now: number): Promise<void>
  /** Every `scanEveryMs(state)`: refresh candidate topics, claim more, report progress. */
  onScan(now: number, state: string): Promise<void>
  /** @default 500 ms */
  scanEveryMs?(state: string): number
}

const TURN_MS = 100
const ORPHAN_CHECK_MS = 2000

/**
 * The loop every claiming task runs until the run's state says stop: give up the topics whose
 * claim the lease keeper found lost, scan for claimable topics, and end the task when the run has no coordinator
 * and will get none (nobody would ever say stop). A run whose coordinator died is still listed for
 * adoption: that is given several leases before the task gives up. Scans run beside the loop, so
 * a slow one (a subscribe queued behind a paused connection) never holds up the loop.
 * Redis errors are retried, never fatal.
 */
export async function runClaimLoop(
  ctx: TaskContext,
  plan: RunPlan,
  claims: TopicClaims,
  hooks: ClaimLoopHooks,
): Promise<void> {
  const { member, logger } = ctx
  let lastScan = 0
  let scanning: Promise<void> | undefined
  let orphaned = 0
  let lockGoneSince: number | undefined
  let lastOrphanCheck = Date.now()
  // Adoption takes up to a lease for the lock to lapse, half a lease for a scan, then the adopter's
  // start-up; past this the run is taken to have nobody left to coordinate it.
  const adoptionGraceMs = Math.max(4 * ORPHAN_CHECK_MS, 4 * plan.leaseMs)
  for (;;) {
    let state: string | null
    try {
      state = await readState(member, plan.id)
    } catch (err) {
      // Redis unreachable for a moment: keep consuming, try again.
      logger.debug('cluster state unreadable', { error: describeError(err) })
      await sleep(500)
      continue
    }
    if (state === 'stop' || state === 'done' || state === null || ctx.signal?.aborted) {
      await scanning
      return
    }
    try {
      const now = Date.now()
      await hooks.onTurn?.(now)
      // Leases are renewed by the lease keeper's thread; here only the ones it found lost are given up.
      await claims.settleLosses()
      if (now - lastOrphanCheck >= ORPHAN_CHECK_MS) {
        lastOrphanCheck = now
        const k = member.keys
        const [locked, listed] = await member.redis
          .multi()
          .exists(k.coordinator(plan.id))
          .sismember(k.coordinatedRuns, plan.id)
          .exec()
          .then((r) => (r ?? []).map(([, v]) => v === 1))
        if (locked) {
          orphaned = 0
          lockGoneSince = undefined
        } else {
          orphaned++
          lockGoneSince ??= now
          const abandoned = listed ? now - lockGoneSince >= adoptionGraceMs : orphaned >= 2
          if (abandoned) {
            logger.warn('the run lost its coordinator and nobody took it over; ending this part', {
              run: plan.id,
            })
            await scanning
            return
          }
        }
      }
      if (!scanning && now - lastScan >= (hooks.scanEveryMs?.(state) ?? 500)) {
        lastScan = now
        const current = state
        scanning = hooks
          .onScan(now, current)
          .catch((err) => logger.debug('cluster scan failed; retrying', { error: describeError(err) }))
          .finally(() => {
            scanning = undefined
          })
      }
    } catch (err) {
      logger.debug('cluster bookkeeping failed; retrying', { error: describeError(err) })
    }
    await sleep(TURN_MS)
  }
}
