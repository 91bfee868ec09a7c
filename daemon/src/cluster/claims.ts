import { type ScriptedRedis, scripted, scriptedMulti } from './lease-scripts.ts'
import type { ClusterMember } from './member.ts'
import { RUN_KEY_TTL_S } from './task-context.ts'

export { scripted }

/** A claim event, appended to `run:{id}:owners`. */
export interface ClaimEvent {
  topic: string
  member: string
  role: string
  atMs: number
}

/**
 * Claims topics 1-1 for one role of one member with `SET NX PX` leases, renewed by the member's
 * lease keeper (a worker thread) every third of the lease. Fair share: at most ceil(topics / live peers) and never more than the capacity, so
 * when a peer dies (its registration expires) the survivors' share grows and they take over its
 * topics as soon as its leases lapse.
 */
export class TopicClaims {
  readonly owned = new Set<string>()
  private readonly redis: ScriptedRedis
  private readonly order: number
  /** Topics the keeper found taken by another member, handled on the task's next turn. */
  private readonly lostQueue: string[] = []

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
        this.member.leases.hold(this.key(t), this.member.id, this.leaseMs, () => this.lostQueue.push(t), true)
        const e: ClaimEvent = { topic: t, member: this.member.id, role: this.role, atMs: now }
        ev.rpush(this.member.keys.owners(this.runId), JSON.stringify(e))
      }
      ev.expire(this.member.keys.owners(this.runId), RUN_KEY_TTL_S)
      await ev.exec()
      for (const t of won) await this.onClaim(t)
    }
    return this.owned.size
  }

  /** Gives up the topics the keeper found lost (expired and taken by another member). */
  async settleLosses(): Promise<void> {
    while (this.lostQueue.length > 0) await this.lose(this.lostQueue.shift()!)
  }

  /** Gives up one topic (its claim is someone else's now). */
  async lose(topic: string): Promise<void> {
    if (!this.owned.delete(topic)) return
    this.member.leases.drop(this.key(topic))
    await this.onLose(topic)
  }

  /**
   * Releases every held claim (only ours). `final` (the run ended) leaves a marker instead, so a
   * daemon that stalled and comes back cannot take a topic back and record it twice.
   */
  async releaseAll(final = false): Promise<void> {
    const topics = [...this.owned]
    this.owned.clear()
    if (topics.length === 0) return
    this.member.leases.drop(...topics.map((t) => this.key(t)))
    const m = scriptedMulti(this.redis)
    for (const t of topics)
      if (final) m.iotloadRetireClaim(this.key(t), this.member.id, RUN_KEY_TTL_S)
      else m.iotloadReleaseClaim(this.key(t), this.member.id)
    await m.exec()
  }
}
