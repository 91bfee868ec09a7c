import { scripted } from './lease-scripts.ts'
import type { ClusterMember } from './member.ts'
import { RUN_KEY_TTL_S, sleep } from './task-context.ts'

/** This daemon no longer coordinates the run: another daemon holds its lock (or nobody does). */
export class LockLostError extends Error {
  constructor(
    readonly run: string,
    /** Member id holding the lock now; null when the lock is gone (Redis lost it, or it lapsed). */
    readonly holder: string | null,
  ) {
    super(
      `run ${run} is coordinated by ${holder ?? 'no daemon'} now (this daemon stalled past its coordinator lease)`,
    )
  }
}

/** This daemon is shutting down and gives the run to another daemon. */
export class HandOverError extends Error {
  constructor(readonly run: string) {
    super(`run ${run} handed over to another daemon (this one is shutting down)`)
  }
}

/**
 * A run's coordinator lock as one coordination holds it: renewed by the member's lease keeper
 * (never starved by the coordination's own work), and every state write goes through it, so a
 * coordinator that stalled past its lease finds the run adopted and stops instead of moving it.
 */
export class RunLease {
  private lostTo: string | null | undefined
  private handingOver = false
  private readonly key: string

  /** Takes over renewal of a lock the caller has just set (`SET NX PX`). */
  constructor(
    private readonly member: ClusterMember,
    readonly run: string,
    leaseMs: number,
  ) {
    this.key = member.keys.coordinator(run)
    member.leases.hold(this.key, member.id, leaseMs, (holder) => {
      this.lostTo = holder
    })
  }

  /** Whether the keeper found the lock someone else's. */
  get lost(): boolean {
    return this.lostTo !== undefined
  }

  /** Throws when the run is no longer this coordination's to move (lost, or being handed over). */
  check(): void {
    if (this.lostTo !== undefined) throw new LockLostError(this.run, this.lostTo)
    if (this.handingOver) throw new HandOverError(this.run)
  }

  /** Marks the lock lost (a fenced write found it someone else's). */
  private async lose(): Promise<never> {
    this.member.leases.drop(this.key)
    this.lostTo ??= await this.member.redis.get(this.key).catch(() => null)
    throw new LockLostError(this.run, this.lostTo)
  }

  /** Sleeps, then throws if the lock was lost or the run is being handed over meanwhile. */
  async sleep(ms: number): Promise<void> {
    await sleep(ms)
    this.check()
  }

  /** Asks the coordination to give the run to another daemon at its next step. */
  requestHandOver(): void {
    this.handingOver = true
  }

  /** Sets a run key only while the lock is ours. */
  async set(key: string, value: string): Promise<void> {
    const r = scripted(this.member.redis)
    if ((await r.iotloadSetIfOwner(this.key, key, this.member.id, value, RUN_KEY_TTL_S)) === 0)
      await this.lose()
  }

  /**
   * Ends the coordination in one script, only while the lock is ours: state `finalState` (workers
   * stop), out of the coordinated set (nobody adopts it), lock deleted. Throws LockLostError otherwise.
   */
  async end(finalState = 'done'): Promise<void> {
    const k = this.member.keys
    const ended = await scripted(this.member.redis).iotloadEndCoordination(
      this.key,
      k.coordinatedRuns,
      k.state(this.run),
      this.member.id,
      this.run,
      finalState,
      RUN_KEY_TTL_S,
    )
    this.member.leases.drop(this.key)
    if (ended !== 1) await this.lose()
  }

  /** Gives the lock up so the next daemon adopts the run at once (not counted as a stall). */
  async handOver(): Promise<void> {
    this.member.leases.drop(this.key)
    await scripted(this.member.redis)
      .iotloadHandOver(this.key, this.member.keys.handover(this.run), this.member.id, RUN_KEY_TTL_S)
      .catch(() => 0)
  }

  /** Releases the lock without ending anything (adoption refused). */
  async release(): Promise<void> {
    this.member.leases.drop(this.key)
    await scripted(this.member.redis)
      .iotloadReleaseClaim(this.key, this.member.id)
      .catch(() => 0)
  }

  /** Stops renewing (the coordination is over either way). */
  close(): void {
    this.member.leases.drop(this.key)
  }
}
