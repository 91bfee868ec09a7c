import { type BrokerConnection, describeError, nowUs, runTag, type Subscription } from '@iotload/sdk'
import { closeAll, openConnections } from '../engine/device-connections.ts'
import { RunRecorder } from '../engine/recorder.ts'
import type { ResolvedScenario } from '../scenario/load-scenario.ts'
import { compileTextTemplate } from '../scenario/text-template.ts'
import { runClaimLoop } from './claim-loop.ts'
import { TopicClaims } from './claims.ts'
import { scriptedMulti } from './lease-scripts.ts'
import { latencyCorrectionUs } from './clock.ts'
import type { RunPlan } from './plan.ts'
import { topicSecond } from './topic-record.ts'
import {
  epochLocalUs,
  RUN_KEY_TTL_S,
  resolvePlanScenario,
  sleep,
  syncWithCoordinator,
  type TaskContext,
} from './task-context.ts'

interface Owned {
  recorder: RunRecorder
  sub: Subscription | undefined
  correctionUs: number
}

/** Advertised producer topics → the topics this role claims (the bridge's output for consumers of a bridged run). */
export async function claimableTopics(
  ctx: TaskContext,
  plan: RunPlan,
  resolved: ResolvedScenario,
  role: 'consumer' | 'bridge',
): Promise<Map<string, { device: number; producer: string }>> {
  const adv = await ctx.member.redis.hgetall(ctx.member.keys.topics(plan.id))
  const out = new Map<string, { device: number; producer: string }>()
  const to =
    resolved.scenario.bridge && role === 'consumer'
      ? compileTextTemplate(resolved.scenario.bridge.to, 'bridge.to')
      : undefined
  for (const [topic, v] of Object.entries(adv)) {
    const info = JSON.parse(v) as { device: number; producer: string }
    out.set(to ? to({ device: info.device, run: plan.id }) : topic, info)
  }
  return out
}

/**
 * A consumer daemon's part of a cluster run: claim topics (fair share, leases), subscribe to each
 * claimed topic with its own recorder, and write every topic's second to Redis. A topic whose
 * lease is lost is closed and its last partial second written, so nothing recorded is dropped.
 */
export async function runConsumerTask(ctx: TaskContext, plan: RunPlan): Promise<void> {
  const { member, logger } = ctx
  const k = member.keys
  const redis = member.redis
  const report = (r: Record<string, unknown>) =>
    redis.hset(k.tasks(plan.id, 'consumer'), member.id, JSON.stringify(r))
  let conn: BrokerConnection[] = []
  let claims: TopicClaims | undefined
  try {
    const resolved = await resolvePlanScenario(ctx, structuredClone(plan.scenario), plan.id)
    const c = resolved.scenario.consumer
    const qos = c.qos ?? resolved.scenario.producer.qos
    const index = plan.consumers.indexOf(member.id)
    const opened = await openConnections({
      broker: resolved.bridgeBroker ?? resolved.broker,
      role: 'consumer',
      runId: plan.id,
      count: 1,
      deviceOf: () => index,
      clientIdTemplate: c.clientId,
      concurrency: 1,
      logger,
      onStatus: () => {},
    })
    conn = opened.connections
    if (opened.failed > 0) throw opened.firstError
    const broker = conn[0]!
    const owned = new Map<string, Owned>()
    const tag = runTag(plan.id)
    const expected = plan.producers.reduce((s, p) => s + p.devices, 0)
    let candidates = new Map<string, { device: number; producer: string }>()
    const toCoordinator = await syncWithCoordinator(member, plan, logger)
    // Producers' offsets to the coordinator, for the per-topic latency correction.
    const clocks = new Map<string, { offsetUs: number; uncertaintyUs: number }>()
    const refreshClocks = async () => {
      for (const [id, v] of Object.entries(await redis.hgetall(k.clocks(plan.id))))
        clocks.set(id, JSON.parse(v))
    }
    const epochUs = epochLocalUs(plan, toCoordinator)
    const secondNow = () => Math.floor((nowUs() - epochUs) / 1e6)

    // Rolled seconds wait here until Redis took them: a failed write is retried, never dropped.
    // Each is written only while the topic's claim is still ours: a daemon that stalled past its
    // lease drops the seconds of a topic another member owns now instead of counting them twice.
    const pending: Array<{ topic: string; field: string; value: string }> = []
    const flush = async () => {
      if (pending.length === 0) return
      const batch = pending.splice(0, pending.length)
      const m = scriptedMulti(redis)
      for (const p of batch)
        m.iotloadWriteIfOwner(
          k.claim(plan.id, 'consumer', p.topic),
          k.results(plan.id, p.topic),
          member.id,
          p.field,
          p.value,
          RUN_KEY_TTL_S,
        )
      let res: [Error | null, unknown][]
      try {
        res = (await m.exec()) ?? []
      } catch (err) {
        pending.unshift(...batch)
        throw err
      }
      const taken = new Set<string>()
      batch.forEach((p, i) => {
        const [err, v] = res[i] ?? [null, -1]
        // -1: the claim is gone for a moment (Redis restarted): kept until the keeper takes it back.
        if (err || v === -1) pending.push(p)
        else if (v === 0) taken.add(p.topic)
      })
      for (const t of taken) {
        logger.warn('dropped a second of a topic another daemon owns now', { run: plan.id, topic: t })
        await claims?.lose(t)
      }
    }
    const writeSeconds = async (entries: Array<[string, Owned]>, second: number) => {
      if (second < 0) return
      for (const [topic, o] of entries) {
        const r = o.recorder.rollSecond(second, false)
        const value = JSON.stringify(topicSecond(second, member.id, r))
        pending.push({ topic, field: `${second}:${member.id}`, value })
      }
      await flush()
    }

    claims = new TopicClaims(
      member,
      plan.id,
      'consumer',
      plan.leaseMs,
      member.settings.capacity,
      plan.consumers,
      async (topic) => {
        const info = candidates.get(topic)
        const producerClock = info ? clocks.get(info.producer) : undefined
        const correctionUs = producerClock ? latencyCorrectionUs(toCoordinator, producerClock) : 0
        const recorder = new RunRecorder(plan.id, tag)
        const o: Owned = { recorder, sub: undefined, correctionUs }
        owned.set(topic, o)
        o.sub = await broker.subscribe(
          topic,
          (msg) => {
            recorder.onPayload(msg.payload, nowUs() + o.correctionUs)
          },
          { qos },
        )
      },
      async (topic) => {
        // Another member owns the topic now: whatever this one did not write yet is not written.
        const o = owned.get(topic)
        if (!o) return
        owned.delete(topic)
        receivedGone += o.recorder.uniqueSoFar
        noteWindow(o.recorder)
        for (let i = pending.length - 1; i >= 0; i--) if (pending[i]!.topic === topic) pending.splice(i, 1)
        await o.sub?.unsubscribe().catch(() => {})
        logger.warn('lost the claim on a topic', { run: plan.id, topic })
      },
    )

    // Distinct messages (warm-up included) seen so far, for the coordinator's drain.
    let receivedGone = 0
    // First and last arrival of measured messages over every topic held, for the receive rate.
    const window = { firstRecvUs: Number.POSITIVE_INFINITY, lastRecvUs: 0 }
    const noteWindow = (r: RunRecorder) => {
      if (r.firstMeasuredRecvUs === 0) return
      window.firstRecvUs = Math.min(window.firstRecvUs, r.firstMeasuredRecvUs)
      window.lastRecvUs = Math.max(window.lastRecvUs, r.lastMeasuredRecvUs)
    }
    const receivedSoFar = () => {
      let n = receivedGone
      for (const o of owned.values()) n += o.recorder.uniqueSoFar
      return n
    }
    let lastSecond = secondNow()
    await runClaimLoop(ctx, plan, claims, {
      async onTurn() {
        const s = secondNow()
        if (s > lastSecond) {
          // Roll the second(s) that ended; a late roll lands in the last ended second.
          lastSecond = s
          await writeSeconds([...owned], s - 1)
        }
      },
      scanEveryMs: (state) => (state === 'go' ? 500 : 250),
      async onScan() {
        if (candidates.size < expected) {
          await refreshClocks()
          candidates = await claimableTopics(ctx, plan, resolved, 'consumer')
        }
        const n = await claims!.scan([...candidates.keys()].sort())
        await report({
          status: 'claiming',
          claimed: n,
          advertised: candidates.size,
          received: receivedSoFar(),
        })
      },
    })
    // Final (partial) second, then give the topics back.
    for (const o of owned.values()) await o.sub?.unsubscribe().catch(() => {})
    for (let attempt = 0; ; attempt++) {
      try {
        await writeSeconds(attempt === 0 ? [...owned] : [], Math.max(0, secondNow()))
        if (pending.length === 0) break
      } catch (err) {
        if (attempt >= 20) throw err
      }
      if (attempt >= 20) {
        logger.warn('some seconds could not be written (their claims are gone)', { count: pending.length })
        break
      }
      await sleep(500)
    }
    // A daemon shutting down mid-run gives its topics to the others; at the run's end they are retired.
    await claims.releaseAll(!ctx.signal?.aborted)
    for (const o of owned.values()) noteWindow(o.recorder)
    await report({
      status: 'done',
      claimed: owned.size,
      ...(window.lastRecvUs > 0 ? window : {}),
    })
    logger.info('cluster consumer task ended', { run: plan.id, topics: owned.size })
  } catch (err) {
    logger.error('cluster consumer task failed', { run: plan.id, error: describeError(err) })
    await report({ status: 'failed', error: describeError(err) }).catch(() => {})
    await claims?.releaseAll().catch(() => {})
  } finally {
    await closeAll(conn)
  }
}
