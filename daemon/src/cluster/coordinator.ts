import { describeError } from '@iotload/sdk'
import { STREAM } from '../engine/recorder.ts'
import { newRunId } from '../engine/run.ts'
import { evaluateSlo, type StreamSummary } from '../engine/summary.ts'
import type { Logger } from '../log/logger.ts'
import { type ResolvedScenario, resolveScenario } from '../scenario/load-scenario.ts'
import { ServiceError } from '../service/errors.ts'
import type { ResultReader, ResultWriter, RunStatus } from '../store/result-store.ts'
import { type ClaimEvent, scripted } from './claims.ts'
import { claimableTopics } from './consumer-task.ts'
import type { ClusterMember } from './member.ts'
import { e2eRow, encodeHistogram, mergeCluster, stats } from './merge.ts'
import { type RunPlan, splitDevices, withRole } from './plan.ts'
import { mergeConnections, mergeGenerators, mergePublishAck } from './producer-merge.ts'
import type { ProducerReport } from './producer-task.ts'
import { type ConsumerWindow, clusterReceiveRate, clusterSendRate } from './rates.ts'
import { RUN_KEY_TTL_S, readPlan, sleep as pause } from './task-context.ts'
import type { TopicSecond } from './topic-record.ts'

/** Coordinator settings. */
export interface CoordinatorOptions {
  member: ClusterMember
  store: ResultWriter & Pick<ResultReader, 'getRun'>
  logger: Logger
  /** Environment for `${env:NAME}` while validating (IOTLOAD_* removed). */
  env: NodeJS.ProcessEnv
  /** Claim and coordinator lease. @default 5000 */
  leaseMs?: number
  /** Longest wait for producers to advertise and topics to be claimed. @default 60000 */
  readyTimeoutMs?: number
}

/** Where coordination starts: a submitted run at `advertise`, an adopted one where it was left. */
type Phase = 'advertise' | 'go' | 'stop'

/** Clock figures of one daemon relative to the coordinator. */
export interface MemberClock {
  member: string
  offsetUs: number
  uncertaintyUs: number
}

/**
 * Coordinates a cluster run from the daemon it was submitted to: takes the run's coordinator lock
 * (SET NX PX, renewed), plans (devices split across producers by capacity), assigns, releases
 * the producers once every topic is claimed, stops the consumers after the producers drained,
 * merges the per-topic results and stores the cluster run in this daemon's SQLite.
 */
export class ClusterCoordinator {
  private readonly leaseMs: number
  private readonly stopRequested = new Set<string>()
  private adoptionsRefused = false
  private readonly running = new Map<string, Promise<void>>()
  private readonly liveCounts = new Map<string, { sent: number; received: number; since: number }>()

  constructor(private readonly o: CoordinatorOptions) {
    this.leaseMs = o.leaseMs ?? 5000
  }

  get activeCount(): number {
    return this.running.size
  }

  isActive(id: string): boolean {
    return this.running.has(id)
  }

  /** Validates, plans and starts a cluster run; resolves once it is stored and assigned. */
  async submit(raw: unknown): Promise<{ id: string; status: RunStatus }> {
    const { member, store } = this.o
    const scenario = structuredClone(raw) as Record<string, unknown>
    // resolveScenario applies env overrides onto the raw object: keep the unresolved copy to ship.
    const resolved = await resolveScenario(structuredClone(scenario), { env: this.o.env })
    const members = await member.liveMembers()
    const producers = withRole(members, 'producer')
    if (producers.length === 0)
      throw new ServiceError('unavailable', 'NO_PRODUCERS', 'no producer daemon in the cluster')
    const p = resolved.scenario.producer
    const consumers = resolved.scenario.consumer.enabled ? withRole(members, 'consumer') : []
    if (resolved.scenario.consumer.enabled && consumers.length === 0)
      throw new ServiceError(
        'unavailable',
        'NO_CONSUMERS',
        'no consumer daemon in the cluster (or set consumer.enabled: false)',
      )
    const bridges = resolved.scenario.bridge ? withRole(members, 'bridge') : []
    if (resolved.scenario.bridge && bridges.length === 0)
      throw new ServiceError('unavailable', 'NO_BRIDGES', 'no bridge daemon in the cluster')
    const id = newRunId()
    const lock = await member.redis.set(member.keys.coordinator(id), member.id, 'PX', this.leaseMs, 'NX')
    if (lock !== 'OK')
      throw new ServiceError('conflict', 'RUN_COORDINATED', `run ${id} is already coordinated elsewhere`)
    const plan: RunPlan = {
      id,
      coordinator: member.id,
      scenario,
      producers: splitDevices(p.firstDevice, p.devices, producers),
      consumers: consumers.map((m) => m.id),
      bridges: bridges.map((m) => m.id),
      leaseMs: this.leaseMs,
      epochMs: Date.now(),
      createdAt: Date.now(),
    }
    store.createRun({
      id,
      name: resolved.scenario.name,
      scenario: resolved.redacted,
      createdAt: plan.createdAt,
    })
    store.updateRun(id, { status: 'connecting' })
    const k = member.keys
    const m = member.redis
      .multi()
      .set(k.plan(id), JSON.stringify(plan), 'EX', RUN_KEY_TTL_S)
      .set(k.state(id), 'advertise', 'EX', RUN_KEY_TTL_S)
      .sadd(k.coordinatedRuns, id)
    const assigned = new Set([...plan.producers.map((x) => x.member), ...plan.consumers, ...plan.bridges])
    for (const a of assigned) m.rpush(k.inbox(a), id).expire(k.inbox(a), RUN_KEY_TTL_S)
    await m.exec()
    this.o.logger.info('cluster run planned', {
      run: id,
      producers: plan.producers.map((x) => `${x.member}[${x.firstDevice}+${x.devices}]`).join(' '),
      consumers: plan.consumers.join(' '),
      bridges: plan.bridges.join(' '),
    })
    this.launch(plan, resolved, 'advertise')
    return { id, status: 'connecting' }
  }

  private launch(plan: RunPlan, resolved: ResolvedScenario, from: Phase, adoptedFrom?: string): void {
    const id = plan.id
    const done = this.coordinate(plan, resolved, from, adoptedFrom)
      .catch((err) => {
        this.o.logger.error('cluster run failed', { run: id, error: describeError(err) })
        this.o.store.updateRun(id, { status: 'failed', endedAt: Date.now(), error: describeError(err) })
      })
      .finally(() => this.running.delete(id))
    this.running.set(id, done)
  }

  /**
   * Takes over a run whose coordinator is gone (its lock expired; the caller holds it now): the
   * plan and everything recorded are in Redis, so coordination resumes at the phase the state key
   * names, and the merged run is stored here. Clock offsets stay relative to the first coordinator.
   */
  async adopt(id: string, state: string): Promise<void> {
    const { member, store, logger } = this.o
    const plan = await readPlan(member, id)
    if (!plan) {
      await member.redis.srem(member.keys.coordinatedRuns, id)
      await this.releaseLock(id)
      return
    }
    const resolved = await resolveScenario(structuredClone(plan.scenario), { env: this.o.env })
    // Reading the plan and loading its plugin took time: take the run only if the lock is still ours.
    const [holder, stopAsked] = await member.redis.mget(
      member.keys.coordinator(id),
      member.keys.stopRequested(id),
    )
    if (holder !== member.id) return
    if (this.adoptionsRefused) {
      // Shutting down: leave the run to a daemon that stays.
      await this.releaseLock(id)
      return
    }
    if (stopAsked) this.stopRequested.add(id)
    const from: Phase = state === 'go' || state === 'stop' ? state : 'advertise'
    logger.warn('adopting a cluster run whose coordinator is gone', {
      run: id,
      from: plan.coordinator,
      state,
    })
    if (!store.getRun(id))
      store.createRun({
        id,
        name: resolved.scenario.name,
        scenario: resolved.redacted,
        createdAt: plan.createdAt,
      })
    this.launch(plan, resolved, from, plan.coordinator)
  }

  private async releaseLock(id: string): Promise<void> {
    const { member } = this.o
    await scripted(member.redis)
      .iotloadReleaseClaim(member.keys.coordinator(id), member.id)
      .catch(() => 0)
  }

  /** Asks a coordinated run to stop; results so far are merged and kept. */
  stop(id: string): boolean {
    if (!this.running.has(id)) return false
    this.stopRequested.add(id)
    const { member } = this.o
    void member.redis.set(member.keys.stopRequested(id), '1', 'EX', RUN_KEY_TTL_S).catch(() => {})
    return true
  }

  /** Live counters of a coordinated run (sent by producers, distinct messages seen by consumers). */
  live(id: string): { sent: number; received: number; second: number } | undefined {
    const l = this.liveCounts.get(id)
    return l
      ? { sent: l.sent, received: l.received, second: Math.floor((Date.now() - l.since) / 1000) }
      : undefined
  }

  private async updateLive(id: string, since: number): Promise<{ sent: number; received: number }> {
    const { member } = this.o
    const sent = (await member.redis.hvals(member.keys.sent(id))).reduce((a, v) => a + Number(v), 0)
    const cons = await this.tasks<{ received?: number }>(id, 'consumer')
    const received = [...cons.values()].reduce((a, x) => a + (x.received ?? 0), 0)
    this.liveCounts.set(id, { sent, received, since })
    return { sent, received }
  }

  async settled(id: string): Promise<void> {
    await this.running.get(id)
  }

  /** From now on `adopt` leaves runs to other daemons (this one is shutting down). */
  refuseAdoptions(): void {
    this.adoptionsRefused = true
  }

  async shutdown(): Promise<void> {
    this.adoptionsRefused = true
    for (const id of this.running.keys()) this.stopRequested.add(id)
    await Promise.allSettled([...this.running.values()])
  }

  private async tasks<T>(id: string, role: string): Promise<Map<string, T>> {
    const h = await this.o.member.redis.hgetall(this.o.member.keys.tasks(id, role))
    return new Map(Object.entries(h).map(([k, v]) => [k, JSON.parse(v) as T]))
  }

  private async coordinate(
    plan: RunPlan,
    resolved: ResolvedScenario,
    from: Phase,
    adoptedFrom: string | undefined,
  ): Promise<void> {
    const { member, store, logger } = this.o
    const k = member.keys
    const r = member.redis
    const id = plan.id
    // Renewed only while the lock is still ours: a coordinator that stalled past its lease must not
    // take the run back from the daemon that adopted it, and stops coordinating instead.
    let lockLost = false
    const renew = setInterval(() => {
      void scripted(r)
        .iotloadRenewClaim(k.coordinator(id), member.id, this.leaseMs)
        .then((held) => {
          if (held === 0 && !lockLost) {
            lockLost = true
            logger.error('lost the coordinator lock; another daemon coordinates this run now', { run: id })
          }
        })
        .catch(() => {})
    }, this.leaseMs / 3)
    // State `done` (workers stop), out of the coordinated set (nobody adopts it), lock deleted:
    // in one script, and only while the lock is still ours.
    let ended = false
    const endCoordination = () =>
      scripted(r).iotloadEndCoordination(
        k.coordinator(id),
        k.coordinatedRuns,
        k.state(id),
        member.id,
        id,
        'done',
        RUN_KEY_TTL_S,
      )
    // State writes go through the lock: a coordinator that lost the run cannot move it.
    const setIfOwner = async (key: string, value: string) => {
      if (
        (await scripted(r).iotloadSetIfOwner(k.coordinator(id), key, member.id, value, RUN_KEY_TTL_S)) === 0
      ) {
        lockLost = true
        throw new Error(`run ${id} is coordinated by another daemon now (this one lost its lock)`)
      }
    }
    const sleep = async (ms: number) => {
      await pause(ms)
      if (lockLost) throw new Error(`run ${id} is coordinated by another daemon now (this one lost its lock)`)
    }
    try {
      const expected = plan.producers.reduce((s, x) => s + x.devices, 0)
      const stopped = () => this.stopRequested.has(id)
      // 1. Producers advertise, consumers and bridges claim every topic.
      const readyBy = Date.now() + (this.o.readyTimeoutMs ?? 60_000)
      for (; from === 'advertise'; ) {
        const prods = await this.tasks<{ status: string }>(id, 'producer')
        const failed = [...prods.values()].find((x) => x.status === 'failed')
        if (failed) throw new Error(`a producer failed to start: ${(failed as { error?: string }).error}`)
        const cons = await this.tasks<{ claimed?: number; status: string }>(id, 'consumer')
        const brs = await this.tasks<{ claimed?: number; status: string }>(id, 'bridge')
        const sum = (m: Map<string, { claimed?: number }>) =>
          [...m.values()].reduce((s, x) => s + (x.claimed ?? 0), 0)
        const ok =
          prods.size === plan.producers.length &&
          (plan.consumers.length === 0 || sum(cons) >= expected) &&
          (plan.bridges.length === 0 || sum(brs) >= expected)
        if (ok || stopped()) break
        if (Date.now() > readyBy) {
          logger.warn('not every topic was claimed in time; starting anyway', { run: id })
          break
        }
        await sleep(200)
      }
      // 2. Go (an adopted run went already: its start time is in Redis).
      let startedAt: number
      if (from === 'advertise') {
        startedAt = Date.now()
        await setIfOwner(k.startedAt(id), String(startedAt))
        await setIfOwner(k.state(id), stopped() ? 'stop' : 'go')
      } else startedAt = Number(await r.get(k.startedAt(id))) || plan.epochMs
      store.updateRun(id, { status: 'running', startedAt })
      // 3. Wait for the producers (or their death), then let the consumers drain. An adopted
      // `stop` may be a user's stop mid-run: the producers' reports are still awaited.
      for (;;) {
        const prods = await this.tasks<ProducerReport>(id, 'producer')
        const pending = plan.producers.filter((x) => {
          const t = prods.get(x.member)
          return !t || t.status === 'advertised'
        })
        if (pending.length === 0) break
        const alive = await member.alive(pending.map((x) => x.member))
        if (alive.size === 0) {
          logger.warn('producer daemons died mid-run', {
            run: id,
            members: pending.map((x) => x.member).join(','),
          })
          break
        }
        if (stopped()) await setIfOwner(k.state(id), 'stop')
        await this.updateLive(id, startedAt)
        await sleep(250)
      }
      store.updateRun(id, { status: 'draining' })
      // Drain: until the consumers saw as many distinct messages as were sent, or the drain time.
      const drainUntil = Date.now() + resolved.scenario.run.drain
      while (from !== 'stop' && plan.consumers.length > 0 && Date.now() < drainUntil) {
        const { sent, received } = await this.updateLive(id, startedAt)
        if (received >= sent) break
        await sleep(250)
      }
      await setIfOwner(k.state(id), 'stop')
      const workers = [...plan.consumers, ...plan.bridges]
      const until = Date.now() + 15_000
      while (Date.now() < until) {
        const cons = await this.tasks<{ status: string }>(id, 'consumer')
        const brs = await this.tasks<{ status: string }>(id, 'bridge')
        const alive = await member.alive(workers)
        const open = workers.filter((w) => {
          const t = cons.get(w) ?? brs.get(w)
          return alive.has(w) && t && t.status !== 'done' && t.status !== 'failed'
        })
        if (open.length === 0) break
        await sleep(200)
      }
      // 4. Merge, end the coordination, then store (only if it was still ours).
      if (lockLost) throw new Error(`run ${id} is coordinated by another daemon now (this one lost its lock)`)
      await this.finish(plan, resolved, startedAt, adoptedFrom, async () => {
        ended = true
        if ((await endCoordination()) === 1) return true
        lockLost = true
        return false
      })
    } finally {
      this.liveCounts.delete(id)
      clearInterval(renew)
      // Failed here: end it all the same (workers stop, nobody adopts it), if still ours.
      if (!lockLost && !ended) await endCoordination().catch(() => 0)
    }
  }

  private async finish(
    plan: RunPlan,
    resolved: ResolvedScenario,
    startedAt: number,
    adoptedFrom: string | undefined,
    /** Ends the coordination in Redis; false when another daemon holds the run now. */
    fence: () => Promise<boolean>,
  ): Promise<void> {
    const { member, store } = this.o
    const k = member.keys
    const r = member.redis
    const id = plan.id
    const topicInfo = await claimableTopics(
      { member, logger: this.o.logger, env: this.o.env },
      plan,
      resolved,
      'consumer',
    )
    const topics = [...topicInfo.keys()].sort()
    const producerTopics = await r.hkeys(k.topics(id))
    const resultsRaw = await Promise.all(topics.map((t) => r.hvals(k.results(id, t))))
    const results = new Map<string, TopicSecond[]>()
    topics.forEach((t, i) => {
      results.set(
        t,
        resultsRaw[i]!.map((v) => JSON.parse(v) as TopicSecond),
      )
    })
    // Sends are counted per producer topic; a bridged run measures the mapped topic.
    const sentRaw = await r.hgetall(k.sent(id))
    const sentAll = new Map<string, number>()
    const adv = await r.hgetall(k.topics(id))
    const toClaimable = new Map<string, string>()
    const producerTopicOf = new Map<number, string>()
    for (const [pt, v] of Object.entries(adv))
      producerTopicOf.set((JSON.parse(v) as { device: number }).device, pt)
    for (const [t, info] of topicInfo) {
      const pt = producerTopicOf.get(info.device)
      if (pt !== undefined) toClaimable.set(pt, t)
    }
    for (const [pt, n] of Object.entries(sentRaw)) {
      const t = toClaimable.get(pt) ?? pt
      sentAll.set(t, (sentAll.get(t) ?? 0) + Number(n))
    }
    const psec = await r.hgetall(k.producerSeconds(id))
    const sentPerSecond = new Map<number, { sent: number; sentWarmup: number; publishErrors: number }>()
    for (const [field, v] of Object.entries(psec)) {
      const s = Number(field.split(':')[0])
      const x = JSON.parse(v) as { sent: number; sentWarmup: number; publishErrors: number }
      const cur = sentPerSecond.get(s) ?? { sent: 0, sentWarmup: 0, publishErrors: 0 }
      cur.sent += x.sent
      cur.sentWarmup += x.sentWarmup
      cur.publishErrors += x.publishErrors
      sentPerSecond.set(s, cur)
    }
    const events = (await r.lrange(k.owners(id), 0, -1)).map((e) => JSON.parse(e) as ClaimEvent)
    const merged = mergeCluster({ topics, results, sentAll, sentPerSecond })

    const prods = await this.tasks<ProducerReport>(id, 'producer')
    const sent = [...prods.values()].reduce((s, x) => s + (x.sent ?? 0), 0)
    const p = resolved.scenario.producer
    const durationS = p.duration / 1000
    const consumerEnabled = plan.consumers.length > 0
    const lost = consumerEnabled ? Math.max(0, sent - merged.total.received) : 0
    const rate = clusterReceiveRate(
      await this.tasks<ConsumerWindow>(id, 'consumer'),
      merged.total.received,
      durationS,
    )
    const row = e2eRow(merged, sent, lost, rate)
    const publishAck = mergePublishAck(prods)
    const legRows = [...(publishAck ? [[STREAM.publishAck, publishAck] as const] : []), ...merged.legs].map(
      ([stream, h]) => ({ stream, raw: stats(h), rawHist: encodeHistogram(h) }),
    )

    // Clocks: every daemon's offset to this coordinator, from its own four-timestamp exchange.
    const clocks: MemberClock[] = Object.entries(await r.hgetall(k.clocks(id)))
      .map(([m, v]) => ({ member: m, ...(JSON.parse(v) as { offsetUs: number; uncertaintyUs: number }) }))
      .sort((a, b) => a.member.localeCompare(b.member))
    const uncertaintyUs = clocks.reduce((m, c) => Math.max(m, c.uncertaintyUs), 0)
    const ownersPerTopic = new Map<string, Set<string>>()
    for (const e of events) {
      const s = ownersPerTopic.get(`${e.role}:${e.topic}`) ?? new Set()
      s.add(e.member)
      ownersPerTopic.set(`${e.role}:${e.topic}`, s)
    }
    const anyFailed = [...prods.values()].some((x) => x.status === 'failed')
    const status: RunStatus = this.stopRequested.has(id) ? 'stopped' : anyFailed ? 'failed' : 'completed'
    const streams: Record<string, StreamSummary> = {
      e2e: {
        sent,
        received: merged.total.received,
        lost,
        duplicates: merged.total.duplicates,
        reordered: merged.total.reordered,
        invalid: merged.total.invalid,
        rate,
        sendRate: clusterSendRate(prods, sent, durationS),
        latency: { raw: stats(merged.raw), co: stats(merged.co) },
      },
    }
    for (const l of legRows) streams[l.stream] = { latency: { raw: l.raw } }
    const slo = evaluateSlo(resolved.slo, streams)
    const summary = {
      run: {
        id,
        name: resolved.scenario.name,
        status,
        startedAt: new Date(startedAt).toISOString(),
        endedAt: new Date().toISOString(),
        measuredSeconds: durationS,
      },
      target: {
        plugin: resolved.broker.pluginName,
        devices: p.devices,
        ratePerDevice: (p.totalRate ?? (p.rate ?? 0) * p.devices) / p.devices,
        totalRate: p.totalRate ?? (p.rate ?? 0) * p.devices,
        durationS,
        warmupS: p.warmup / 1000,
        qos: p.qos,
        envelope: p.envelope,
      },
      streams,
      invalid: { ...merged.total.invalidByReason },
      generator: mergeGenerators(prods),
      generatorLimited: [...prods.values()].some((x) => x.generatorLimited),
      connections: mergeConnections(prods),
      bridge: null,
      clockSkew: merged.total.clockSkew,
      slo,
      sloPassed: slo.every((x) => x.pass),
      cluster: {
        coordinator: member.id,
        /** The coordinator that planned the run and died; clock offsets are relative to it. */
        ...(adoptedFrom ? { adoptedFrom } : {}),
        producers: plan.producers.map((x) => ({
          ...x,
          status: prods.get(x.member)?.status ?? 'lost',
          sent: prods.get(x.member)?.sent ?? 0,
          generatorLimited: prods.get(x.member)?.generatorLimited ?? false,
        })),
        consumers: plan.consumers,
        bridges: plan.bridges,
        topics: {
          advertised: producerTopics.length,
          measured: topics.length,
          claimed: [...ownersPerTopic.keys()].filter((x) => x.startsWith('consumer:')).length,
          reclaimed: [...ownersPerTopic.entries()].filter(([x, s]) => x.startsWith('consumer:') && s.size > 1)
            .length,
        },
        clocks,
        /** Latencies between two daemons are uncertain by up to this much (largest member uncertainty). */
        clockUncertaintyUs: uncertaintyUs,
        gaps: merged.gaps,
        firstSecondEpoch: merged.firstSecond,
      },
    }
    // Stored only if the run is still ours: a coordinator that stalled while merging finds it
    // adopted here and leaves the storing to the adopter.
    if (!(await fence()))
      throw new Error(`run ${id} is coordinated by another daemon now (this one lost its lock)`)
    for (const s of merged.seconds) store.appendSecond(id, s)
    store.saveSummary(id, [row, ...legRows])
    store.updateRun(id, { status, endedAt: Date.now(), summary, error: null })
    this.o.logger.info('cluster run ended', {
      run: id,
      status,
      sent,
      received: merged.total.received,
      gaps: merged.gaps.length,
    })
  }
}
