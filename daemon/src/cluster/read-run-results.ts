import type { Logger } from '../log/logger.ts'
import type { TrustPolicy } from '../scenario/trust-policy.ts'
import type { ResolvedScenario } from '../scenario/load-scenario.ts'
import type { ClaimEvent } from './claims.ts'
import { claimableTopics } from './consumer-task.ts'
import type { MemberClock } from './coordinator-types.ts'
import type { ClusterMember } from './member.ts'
import type { MergeInput } from './merge.ts'
import type { RunPlan } from './plan.ts'
import type { ProducerReport } from './producer-task.ts'
import type { ConsumerWindow } from './rates.ts'

/** Everything a run left in Redis that the coordinator merges into its result. */
export interface RunResults {
  merge: MergeInput
  /** Topics the producers advertised. */
  producerTopics: number
  events: ClaimEvent[]
  producers: Map<string, ProducerReport>
  consumerWindows: Map<string, ConsumerWindow>
  clocks: MemberClock[]
}

/** Reads a hash of JSON task reports (`run:{id}:tasks:{role}`). */
export async function readTasks<T>(member: ClusterMember, id: string, role: string): Promise<Map<string, T>> {
  const h = await member.redis.hgetall(member.keys.tasks(id, role))
  return new Map(Object.entries(h).map(([k, v]) => [k, JSON.parse(v) as T]))
}

/**
 * Reads a run's per-topic records (as stored: parsed during the sliced merge), its sends per
 * topic and per second, claim events, task reports and clock figures.
 */
export async function readRunResults(
  member: ClusterMember,
  plan: RunPlan,
  resolved: ResolvedScenario,
  ctx: { logger: Logger; env: NodeJS.ProcessEnv; policy: TrustPolicy },
): Promise<RunResults> {
  const k = member.keys
  const r = member.redis
  const id = plan.id
  const topicInfo = await claimableTopics({ member, ...ctx }, plan, resolved, 'consumer')
  const topics = [...topicInfo.keys()].sort()
  const results = new Map<string, string[]>()
  // In batches: a pipeline of 500 HVALS answers with every record of the run at once.
  for (let i = 0; i < topics.length; i += 100) {
    const batch = topics.slice(i, i + 100)
    const vals = await Promise.all(batch.map((t) => r.hvals(k.results(id, t))))
    batch.forEach((t, j) => {
      results.set(t, vals[j]!)
    })
  }
  // Sends are counted per producer topic; a bridged run measures the mapped topic.
  const adv = await r.hgetall(k.topics(id))
  const producerTopicOf = new Map<number, string>()
  for (const [pt, v] of Object.entries(adv))
    producerTopicOf.set((JSON.parse(v) as { device: number }).device, pt)
  const toClaimable = new Map<string, string>()
  for (const [t, info] of topicInfo) {
    const pt = producerTopicOf.get(info.device)
    if (pt !== undefined) toClaimable.set(pt, t)
  }
  const sentAll = new Map<string, number>()
  for (const [pt, n] of Object.entries(await r.hgetall(k.sent(id)))) {
    const t = toClaimable.get(pt) ?? pt
    sentAll.set(t, (sentAll.get(t) ?? 0) + Number(n))
  }
  const sentPerSecond = new Map<number, { sent: number; sentWarmup: number; publishErrors: number }>()
  for (const [field, v] of Object.entries(await r.hgetall(k.producerSeconds(id)))) {
    const s = Number(field.split(':')[0])
    const x = JSON.parse(v) as { sent: number; sentWarmup: number; publishErrors: number }
    const cur = sentPerSecond.get(s) ?? { sent: 0, sentWarmup: 0, publishErrors: 0 }
    cur.sent += x.sent
    cur.sentWarmup += x.sentWarmup
    cur.publishErrors += x.publishErrors
    sentPerSecond.set(s, cur)
  }
  const events = (await r.lrange(k.owners(id), 0, -1)).map((e) => JSON.parse(e) as ClaimEvent)
  // Clocks: every daemon's offset to the first coordinator, from its own four-timestamp exchange.
  const clocks: MemberClock[] = Object.entries(await r.hgetall(k.clocks(id)))
    .map(([m, v]) => ({ member: m, ...(JSON.parse(v) as { offsetUs: number; uncertaintyUs: number }) }))
    .sort((a, b) => a.member.localeCompare(b.member))
  return {
    merge: { topics, results, sentAll, sentPerSecond },
    producerTopics: Object.keys(adv).length,
    events,
    producers: await readTasks<ProducerReport>(member, id, 'producer'),
    consumerWindows: await readTasks<ConsumerWindow>(member, id, 'consumer'),
    clocks,
  }
}
