import type { Redis } from 'ioredis'
import type { ClusterMember } from './member.ts'
import { RUN_KEY_TTL_S } from './task-context.ts'

// Fixed scripts (never built from data): renew / release a claim only while we still hold it.
const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`
// Sets KEYS[2] to ARGV[2] (expiring in ARGV[3] s) only while the lock KEYS[1] is ARGV[1]'s: a
// coordinator that lost its run cannot move the adopter's state.
const SET_IF_OWNER = `if redis.call('get', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('set', KEYS[2], ARGV[2], 'EX', ARGV[3])
return 1`
// Ends a run's coordination in one step, only while the coordinator lock (KEYS[1]) is ARGV[1]'s:
// the run leaves the coordinated set (KEYS[2]), its state (KEYS[3]) becomes ARGV[3], the lock goes.
const END_COORDINATION = `if redis.call('get', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('srem', KEYS[2], ARGV[2])
redis.call('set', KEYS[3], ARGV[3], 'EX', ARGV[4])
return redis.call('del', KEYS[1])`

export type ScriptedRedis = Redis & {
  iotloadRenewClaim(key: string, owner: string, ms: number): Promise<number>
  iotloadReleaseClaim(key: string, owner: string): Promise<number>
  iotloadSetIfOwner(lock: string, key: string, owner: string, value: string, ttlS: number): Promise<number>
  iotloadEndCoordination(
    lock: string,
    runs: string,
    state: string,
    owner: string,
    run: string,
    finalState: string,
    ttlS: number,
  ): Promise<number>
}

/** A MULTI with the claim scripts (ioredis adds defined commands to pipelines too). */
interface ClaimPipeline {
  iotloadRenewClaim(key: string, owner: string, ms: number): ClaimPipeline
  iotloadReleaseClaim(key: string, owner: string): ClaimPipeline
  exec(): Promise<[Error | null, unknown][] | null>
}

/** The connection with the lease scripts defined (once); they serve any `SET NX PX` lease. */
export function scripted(redis: Redis): ScriptedRedis {
  const r = redis as ScriptedRedis
  if (typeof r.iotloadRenewClaim !== 'function') {
    redis.defineCommand('iotloadRenewClaim', { numberOfKeys: 1, lua: RENEW })
    redis.defineCommand('iotloadReleaseClaim', { numberOfKeys: 1, lua: RELEASE })
    redis.defineCommand('iotloadEndCoordination', { numberOfKeys: 3, lua: END_COORDINATION })
    redis.defineCommand('iotloadSetIfOwner', { numberOfKeys: 2, lua: SET_IF_OWNER })
  }
  return r
}

/** A claim event, appended to `run:{id}:owners`. */
export interface ClaimEvent {
  topic: string
  member: string
  role: string
  atMs: number
}

/**
 * Claims topics 1-1 for one role of one member with `SET NX PX` leases renewed every third of
 * the lease. Fair share: at most ceil(topics / live peers) and never more than the capacity, so
 * when a peer dies (its registration expires) the survivors' share grows and they take over its
 * topics as soon as its leases lapse.
 */
export class TopicClaims {
  readonly owned = new Set<string>()
  private readonly redis: ScriptedRedis
  private readonly order: number

  constructor(
    private readonly member: ClusterMember,
    private readonly runId: string,
    private readonly role: 'consumer' | 'bridge',
    private readonly leaseMs: number,
    private readonly capacity: number,
    /** Members of this role in the plan (this one included). */
    private readonly peers: string[],
    private readonly onClaim: (topic: string) => Promise<void> | void,
    private readonly onLose: (topic: string) => Promise<void> | void,
  ) {
    this.redis = scripted(member.redis)
    this.order = Math.max(0, peers.indexOf(member.id))
  }

  private key(topic: string): string {
    return this.member.keys.claim(this.runId, this.role, topic)
  }

  /** Tries to claim free topics up to this member's share. Returns the number owned. */
  async scan(candidates: string[]): Promise<number> {
    if (candidates.length === 0) return this.owned.size
    const live = await this.member.alive(this.peers)
    live.add(this.member.id)
    const share = Math.min(this.capacity, Math.ceil(candidates.length / live.size))
    // Start at a different place per member so peers rarely race for the same topics.
    const start = Math.floor((this.order * candidates.length) / Math.max(1, this.peers.length))
    const rotated = [...candidates.slice(start), ...candidates.slice(0, start)].filter(
      (t) => !this.owned.has(t),
    )
    let i = 0
    while (this.owned.size < share && i < rotated.length) {
      const batch = rotated.slice(i, i + (share - this.owned.size))
      i += batch.length
      const m = this.redis.multi()
      for (const t of batch) m.set(this.key(t), this.member.id, 'PX', this.leaseMs, 'NX')
      const res = (await m.exec()) ?? []
      const won = batch.filter((_, j) => res[j]?.[1] === 'OK')
      if (won.length === 0) continue
      const now = Date.now()
      const ev = this.redis.multi()
      for (const t of won) {
        this.owned.add(t)
        const e: ClaimEvent = { topic: t, member: this.member.id, role: this.role, atMs: now }
        ev.rpush(this.member.keys.owners(this.runId), JSON.stringify(e))
      }
      ev.expire(this.member.keys.owners(this.runId), RUN_KEY_TTL_S)
      await ev.exec()
      for (const t of won) await this.onClaim(t)
    }
    return this.owned.size
  }

  /** Renews every held lease; a lease found lost (expired and taken) is given up. */
  async renew(): Promise<void> {
    const topics = [...this.owned]
    if (topics.length === 0) return
    const m = this.redis.multi() as unknown as ClaimPipeline
    for (const t of topics) m.iotloadRenewClaim(this.key(t), this.member.id, this.leaseMs)
    const res = (await m.exec()) ?? []
    for (let j = 0; j < topics.length; j++) {
      if (res[j]?.[1] === 1) continue
      // Expired: take it back if nobody else did, else let go.
      const again = await this.redis.set(this.key(topics[j]!), this.member.id, 'PX', this.leaseMs, 'NX')
      if (again === 'OK') continue
      this.owned.delete(topics[j]!)
      await this.onLose(topics[j]!)
    }
  }

  /** Releases every held claim (only ours). */
  async releaseAll(): Promise<void> {
    const topics = [...this.owned]
    this.owned.clear()
    if (topics.length === 0) return
    const m = this.redis.multi() as unknown as ClaimPipeline
    for (const t of topics) m.iotloadReleaseClaim(this.key(t), this.member.id)
    await m.exec()
  }
}
