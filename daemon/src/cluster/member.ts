import { randomBytes } from 'node:crypto'
import { describeError } from '@iotload/sdk'
import type { Redis } from 'ioredis'
import type { Logger } from '../log/logger.ts'
import { serveClock } from './clock-exchange.ts'
import { ClusterKeys } from './keys.ts'
import { LeaseKeeper } from './lease-keeper.ts'
import { createRedis, type RedisSettings, redactRedisUrl } from './redis-client.ts'

/** What a daemon can do in a cluster. `any` is all of them. */
export type ClusterRole = 'producer' | 'consumer' | 'bridge' | 'any'
export const CLUSTER_ROLES: readonly ClusterRole[] = ['producer', 'consumer', 'bridge', 'any']

/** A member as registered in Redis. */
export interface MemberInfo {
  id: string
  roles: ClusterRole[]
  /** Devices a producer takes / topics a consumer or bridge claims at most. */
  capacity: number
  /** `host:port` other daemons and clients reach this daemon's REST API at. */
  advertise: string
  pid: number
  startedAt: number
}

/** Settings of a cluster member. */
export interface MemberSettings {
  redis: RedisSettings
  roles: ClusterRole[]
  capacity: number
  advertise: string
  /** Key prefix. @default 'iotload' */
  prefix?: string
  /** TTL of the registration; the lease keeper renews it every third. @default 5000 */
  ttlMs?: number
  /** Main-thread silence after which the lease keeper lets every lease lapse. @default 30000 */
  stallBudgetMs?: number
}

/** Called with each run id a coordinator assigned to this member. */
export type AssignmentHandler = (runId: string) => void

/**
 * Registration of this daemon in the cluster: a member key with a TTL renewed by the lease keeper's
 * thread (so a dead or hung daemon disappears by itself, a busy one does not), the member set, an
 * inbox polled for assignments, and a responder for clock exchanges (when this daemon coordinates).
 * After a Redis restart the keeper's next renewal registers again.
 */
export class ClusterMember {
  readonly id: string
  readonly keys: ClusterKeys
  readonly redis: Redis
  readonly ttlMs: number
  /** Renews this daemon's leases from a worker thread (registration, coordinator locks, claims). */
  readonly leases: LeaseKeeper
  private readonly startedAt = Date.now()
  private clockServer: { stop: () => void } | undefined
  private timers: NodeJS.Timeout[] = []
  private closed = false
  private onAssignment: AssignmentHandler = () => {}
  private polling = false

  constructor(
    readonly settings: MemberSettings,
    private readonly logger: Logger,
  ) {
    this.id = `${settings.advertise}-${randomBytes(3).toString('hex')}`
    this.keys = new ClusterKeys(settings.prefix ?? 'iotload')
    this.ttlMs = settings.ttlMs ?? 5000
    this.redis = createRedis(settings.redis, logger, 'member')
    this.leases = new LeaseKeeper({
      redis: settings.redis,
      logger,
      ...(settings.stallBudgetMs ? { stallBudgetMs: settings.stallBudgetMs } : {}),
    })
  }

  get roles(): ClusterRole[] {
    return this.settings.roles
  }

  hasRole(role: Exclude<ClusterRole, 'any'>): boolean {
    return this.roles.includes(role) || this.roles.includes('any')
  }

  info(): MemberInfo {
    return {
      id: this.id,
      roles: this.roles,
      capacity: this.settings.capacity,
      advertise: this.settings.advertise,
      pid: process.pid,
      startedAt: this.startedAt,
    }
  }

  /** Registers (renewed by the lease keeper), starts the clock responder and the inbox poll. */
  async start(onAssignment: AssignmentHandler): Promise<void> {
    this.onAssignment = onAssignment
    this.clockServer = serveClock(this.redis, this.keys, this.id, this.logger)
    // Registered only once the keeper runs: it renews the registration from then on.
    await this.leases.ready
    await this.heartbeat()
    this.leases.register(
      this.keys.member(this.id),
      this.keys.members,
      this.id,
      JSON.stringify(this.info()),
      this.ttlMs,
    )
    this.timers.push(setInterval(() => void this.poll(), 200))
    this.logger.info('joined the cluster', {
      member: this.id,
      roles: this.roles.join(','),
      capacity: this.settings.capacity,
      redis: redactRedisUrl(this.settings.redis.url),
    })
  }

  private async heartbeat(): Promise<void> {
    if (this.closed) return
    try {
      await this.redis
        .multi()
        .set(this.keys.member(this.id), JSON.stringify(this.info()), 'PX', this.ttlMs)
        .sadd(this.keys.members, this.id)
        .exec()
    } catch (err) {
      this.logger.debug('heartbeat failed', { error: describeError(err) })
    }
  }

  private async poll(): Promise<void> {
    if (this.polling || this.closed) return
    this.polling = true
    try {
      for (;;) {
        const run = await this.redis.lpop(this.keys.inbox(this.id))
        if (!run) break
        this.onAssignment(run)
      }
    } catch (err) {
      this.logger.debug('inbox poll failed', { error: describeError(err) })
    } finally {
      this.polling = false
    }
  }

  /** Live members (registration not expired); ids whose key expired are removed from the set. */
  async liveMembers(): Promise<MemberInfo[]> {
    const ids = await this.redis.smembers(this.keys.members)
    if (ids.length === 0) return []
    const values = await this.redis.mget(ids.map((i) => this.keys.member(i)))
    const out: MemberInfo[] = []
    const stale: string[] = []
    values.forEach((v, i) => {
      if (v) out.push(JSON.parse(v) as MemberInfo)
      else stale.push(ids[i]!)
    })
    if (stale.length > 0) await this.redis.srem(this.keys.members, ...stale)
    return out.sort((a, b) => a.id.localeCompare(b.id))
  }

  /** Which of these members are still registered. */
  async alive(ids: string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set()
    const values = await this.redis.mget(ids.map((i) => this.keys.member(i)))
    return new Set(ids.filter((_, i) => values[i] !== null))
  }

  /** Deregisters and disconnects. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    for (const t of this.timers) clearInterval(t)
    this.clockServer?.stop()
    await this.leases.close()
    try {
      await this.redis.multi().del(this.keys.member(this.id)).srem(this.keys.members, this.id).exec()
    } catch {}
    this.redis.disconnect()
  }
}
