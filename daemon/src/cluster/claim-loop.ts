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
 * The loop every claiming task runs until the run's state says stop: renew the leases a third of
 * the way through, end the task when the coordinator's lease lapsed twice in a row (nobody would
 * ever say stop), and scan for claimable topics. Redis errors are retried, never fatal.
 */
export async function runClaimLoop(
  ctx: TaskContext,
  plan: RunPlan,
  claims: TopicClaims,
  hooks: ClaimLoopHooks,
): Promise<void> {
  const { member, logger } = ctx
  let lastScan = 0
  let orphaned = 0
  let lastOrphanCheck = Date.now()
  let lastRenew = Date.now()
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
    if (state === 'stop' || state === 'done' || state === null) return
    try {
      const now = Date.now()
      await hooks.onTurn?.(now)
      if (now - lastRenew >= plan.leaseMs / 3) {
        lastRenew = now
        await claims.renew()
      }
      if (now - lastOrphanCheck >= ORPHAN_CHECK_MS) {
        lastOrphanCheck = now
        orphaned = (await member.redis.exists(member.keys.coordinator(plan.id))) === 1 ? 0 : orphaned + 1
        if (orphaned >= 2) {
          logger.warn('the run lost its coordinator; ending this part', { run: plan.id })
          return
        }
      }
      if (now - lastScan >= (hooks.scanEveryMs?.(state) ?? 500)) {
        lastScan = now
        await hooks.onScan(now, state)
      }
    } catch (err) {
      logger.debug('cluster bookkeeping failed; retrying', { error: describeError(err) })
    }
    await sleep(TURN_MS)
  }
}
