import { type BrokerConnection, describeError, type RunningBridge } from '@iotload/sdk'
import { closeAll, openConnections } from '../engine/device-connections.ts'
import { loadBridge } from '../plugins/optional-packages.ts'
import { TopicClaims } from './claims.ts'
import { claimableTopics } from './consumer-task.ts'
import type { RunPlan } from './plan.ts'
import { runClaimLoop } from './claim-loop.ts'
import { resolvePlanScenario, type TaskContext } from './task-context.ts'

/**
 * A bridge daemon's part of a cluster run: claim producer topics 1-1 (leases, fair share like
 * consumers) and run iotload's reference bridge for each claimed topic, so every message crosses
 * exactly one bridge. The bridge stamps hops; consumers record the legs.
 */
export async function runBridgeTask(ctx: TaskContext, plan: RunPlan): Promise<void> {
  const { member, logger } = ctx
  const k = member.keys
  const redis = member.redis
  const report = (r: Record<string, unknown>) =>
    redis.hset(k.tasks(plan.id, 'bridge'), member.id, JSON.stringify(r))
  const connections: BrokerConnection[] = []
  let claims: TopicClaims | undefined
  const bridges = new Map<string, RunningBridge>()
  try {
    const resolved = await resolvePlanScenario(ctx, structuredClone(plan.scenario), plan.id)
    const config = resolved.scenario.bridge
    if (!config) return
    const { startBridge } = await loadBridge()
    const index = plan.bridges.indexOf(member.id)
    const open = async (role: 'bridge-in' | 'bridge-out', broker = resolved.broker) => {
      const opened = await openConnections({
        broker,
        role,
        runId: plan.id,
        count: 1,
        deviceOf: () => index,
        clientIdTemplate: `iotload-{run}-${role}-{device}`,
        concurrency: 1,
        logger,
        onStatus: () => {},
      })
      connections.push(...opened.connections)
      if (opened.failed > 0) throw opened.firstError
      return opened.connections[0]!
    }
    const input = await open('bridge-in')
    const output = await open('bridge-out', resolved.bridgeBroker ?? resolved.broker)
    const expected = plan.producers.reduce((s, p) => s + p.devices, 0)
    let candidates: string[] = []
    claims = new TopicClaims(
      member,
      plan.id,
      'bridge',
      plan.leaseMs,
      member.settings.capacity,
      plan.bridges,
      async (topic) => {
        bridges.set(
          topic,
          await startBridge({
            config,
            input,
            output,
            filter: topic,
            qos: resolved.scenario.producer.qos,
            logger,
            name: `bridge-${index}`,
          }),
        )
      },
      async (topic) => {
        await bridges
          .get(topic)
          ?.stop()
          .catch(() => {})
        bridges.delete(topic)
        logger.warn('lost the claim on a topic', { run: plan.id, topic })
      },
    )
    await runClaimLoop(ctx, plan, claims, {
      async onScan() {
        if (candidates.length < expected)
          candidates = [...(await claimableTopics(ctx, plan, resolved, 'bridge')).keys()].sort()
        const n = await claims!.scan(candidates)
        await report({ status: 'claiming', claimed: n })
      },
    })
    let forwarded = 0
    for (const b of bridges.values()) {
      forwarded += b.stats.forwarded
      await b.stop().catch(() => {})
    }
    await claims.releaseAll(!ctx.signal?.aborted)
    await report({ status: 'done', claimed: bridges.size, forwarded })
  } catch (err) {
    logger.error('cluster bridge task failed', { run: plan.id, error: describeError(err) })
    await report({ status: 'failed', error: describeError(err) }).catch(() => {})
    await claims?.releaseAll().catch(() => {})
  } finally {
    for (const b of bridges.values()) await b.stop().catch(() => {})
    await closeAll(connections)
  }
}
