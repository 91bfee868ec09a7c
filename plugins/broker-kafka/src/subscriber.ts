import type { InboundMessage, PluginContext, Subscription } from '@iotload/sdk'
import type { Admin, Consumer, ConsumerRunConfig } from 'kafkajs'
import type { KafkaConfig } from './config.ts'
import { BatchDelivery } from './batch-delivery.ts'
import { lagOrUndefined, type Positions } from './consumer-lag.ts'
import { commitLocalGroup, OffsetCommitter } from './offset-committer.ts'
import { retrySetup } from './retry-setup.ts'
import { StartOffsets } from './start-offsets.ts'
import type { TopicFilter } from './topic-filter.ts'

/** How often a member commits what it handed over (see `OffsetCommitter`). */
const COMMIT_INTERVAL_MS = 2000

/** What a subscription needs from its connection. */
export interface SubscriberDeps {
  consumer: Consumer
  groupId: string
  /**
   * Whether other members may share the group (a group the daemon named, or `group: shared`):
   * then `start` does not wait for the join, so the members of a run join together.
   */
  shared: boolean
  admin: () => Promise<Admin>
  config: KafkaConfig
  ctx: PluginContext
  filter: TopicFilter
  onMessage: (msg: InboundMessage) => void
  /** Called when the subscription starts to stop on purpose (its socket closes are no outage). */
  onStopping: () => void
  /** Called once the subscription has stopped for good. */
  onDone: () => void
}

/**
 * One kafkajs consumer (one group member) delivering to one callback. A literal filter subscribes
 * to that topic. A pattern filter subscribes to the matching topics that exist and checks every
 * `topicRefresh` ms for new ones: kafkajs resolves a RegExp subscription only once, at start,
 * which would miss the per-device topics producers create after the consumer started. Topics
 * found later are read from their beginning, since all they hold was published after subscribe.
 *
 * Start position: the end offsets noted before joining (`StartOffsets`); partitions with a
 * committed offset (a shared group rebalancing) resume from that. Offsets are committed off the
 * fetch path (`OffsetCommitter`).
 */
export class KafkaSubscriber implements Subscription {
  private readonly topics = new Set<string>()
  private refreshTimer: NodeJS.Timeout | undefined
  private running = false
  private stopped = false
  private crashed = false
  private restarting: Promise<void> = Promise.resolve()
  /** A shared group's join left to run on after `start` (see `joinInBackground`). */
  private joining: Promise<void> = Promise.resolve()
  /** Ends a pending wait for the join and first fetch (unsubscribe during a join). */
  private abortJoinWait: () => void = () => {}
  /** Where a fresh group starts: end offsets noted at subscribe (see `StartOffsets`). */
  private readonly starts: StartOffsets
  /** Next offset to hand over, per partition this member read: its exact lag, commits aside. */
  private readonly positions: Positions = new Map()
  private readonly committer: OffsetCommitter
  private pinning: Promise<void> = Promise.resolve()
  private readonly runConfig: ConsumerRunConfig
  private readonly delivery: BatchDelivery

  constructor(private readonly deps: SubscriberDeps) {
    this.delivery = new BatchDelivery(deps.onMessage, this.positions, () => this.stopped)
    this.runConfig = {
      // kafkajs' auto-commit sends an OffsetCommit after EVERY batch and waits for it before the
      // next fetch, whatever autoCommitInterval says: ~5 ms of a one-at-a-time round trip's ~7 here.
      // The subscriber commits on its own instead (`OffsetCommitter`): every 2 s, at a rebalance,
      // and before leaving; a restart or a new owner costs duplicates, never loss.
      autoCommit: false,
      // Batches of different partitions are handed over without waiting for each other (one
      // partition's batches stay sequential, so per-device order holds); with 10 partitions on one
      // consumer this halved the bridge's receive latency.
      partitionsConsumedConcurrently: 10,
      // Offsets are resolved by hand up to the last record handed over, so a batch cut short by
      // unsubscribe while paused is read again by the group's next member, not skipped.
      eachBatchAutoResolve: false,
      eachBatch: this.delivery.eachBatch,
    }
    const { consumer, ctx } = deps
    this.committer = new OffsetCommitter(deps.groupId, consumer, this.positions, COMMIT_INTERVAL_MS, (err) =>
      ctx.logger.warn('kafka: offset commit failed', {
        clientId: ctx.clientId,
        error: err instanceof Error ? err.message : String(err),
      }),
    )
    this.starts = new StartOffsets({
      consumer,
      groupId: deps.groupId,
      admin: deps.admin,
      positions: this.positions,
      committer: this.committer,
    })
    const ev = consumer.events
    consumer.on(ev.CRASH, (e) => {
      if (this.stopped) return
      this.crashed = true
      ctx.onStatus?.(e.payload.restart ? 'reconnecting' : 'disconnected', e.payload.error.message)
    })
    consumer.on(ev.GROUP_JOIN, (e) => {
      this.committer.assign(e.payload.memberAssignment)
      this.pinning = this.starts
        .pin(e.payload.memberAssignment, () => this.stopped)
        .catch((err: unknown) =>
          ctx.logger.warn('kafka: could not pin start offsets', {
            clientId: ctx.clientId,
            error: err instanceof Error ? err.message : String(err),
          }),
        )
      if (!this.crashed || this.stopped) return
      this.crashed = false
      ctx.onStatus?.('reconnected')
    })
  }

  /**
   * Joins the group and resolves once the first fetch ran, so offsets are fixed before any publish.
   *
   * A shared group's member resolves once its join has started instead. The daemon subscribes its
   * consumers one after the other, and every member that joins a stable group makes all the others
   * rejoin (kafkajs has only the eager protocol), each noticing at its next heartbeat: ten members
   * waiting for their own join took ten rebalances, tens of seconds and ~90 warnings. Leaving the
   * join to run on, the later members' joins all arrive while the first member is still to rejoin,
   * so the group settles in one rebalance. Nothing published
   * after `start` resolved is skipped: end offsets were noted before it resolved, and whichever
   * member a partition goes to seeks there (and commits it) unless the group committed one already.
   */
  async start(): Promise<void> {
    const { consumer, filter, config } = this.deps
    await consumer.connect()
    // On a fresh broker the first group lookup creates __consumer_offsets; kafkajs' join gives up
    // on "no coordinator" instead of waiting for it, so wait here.
    const admin = await this.deps.admin()
    await retrySetup(() => admin.describeGroups([this.deps.groupId]))
    if ('literal' in filter) {
      if (!config.fromBeginning) await this.starts.note([filter.literal])
      await consumer.subscribe({ topics: [filter.literal], fromBeginning: config.fromBeginning })
      this.topics.add(filter.literal)
      if (this.deps.shared) this.joinInBackground()
      else await this.runAndWaitForFetch()
      return
    }
    const existing = await this.matchingTopics()
    if (existing.length > 0) {
      if (!config.fromBeginning) await this.starts.note(existing)
      await consumer.subscribe({ topics: existing, fromBeginning: config.fromBeginning })
      for (const t of existing) this.topics.add(t)
      await this.runAndWaitForFetch()
    }
    this.scheduleRefresh()
  }

  /**
   * Back-pressure for the bridge: stops handing records over, so kafkajs stops fetching for the
   * paused partitions and the backlog waits in Kafka (consumer lag) instead of in memory.
   */
  pause(): void {
    this.delivery.pause()
  }

  resume(): void {
    this.delivery.resume()
  }

  /** Starts handing records over (see `BatchDelivery.open`); called once `subscribe` resolved. */
  openDeliveries(): void {
    this.delivery.open()
  }

  /** The group's consumer lag over the subscribed topics (see `groupLag`); undefined when Kafka cannot say. */
  async backlog(): Promise<number | undefined> {
    if (this.stopped) return undefined
    // Commits are periodic: the group's members in this process bring theirs up to date first.
    await commitLocalGroup(this.deps.groupId).catch(() => undefined)
    return lagOrUndefined(this.deps, [...this.topics], this.positions, this.starts.byTopic)
  }

  async unsubscribe(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    this.delivery.wake()
    this.abortJoinWait()
    this.deps.onStopping()
    if (this.refreshTimer) clearTimeout(this.refreshTimer)
    await this.restarting.catch(() => undefined)
    try {
      // What was handed over is committed before leaving, so the group's next owner goes on from there.
      await this.committer.stop()
      await this.deps.consumer.disconnect()
      await this.joining
    } finally {
      this.deps.onDone()
    }
  }

  /** Starts the join and leaves it to run on (see `start`). */
  private joinInBackground(): void {
    const { ctx } = this.deps
    this.joining = this.runAndWaitForFetch().catch((err: unknown) => {
      if (this.stopped) return
      ctx.logger.warn('kafka: could not join the consumer group', {
        clientId: ctx.clientId,
        error: err instanceof Error ? err.message : String(err),
      })
      ctx.onStatus?.('disconnected', err instanceof Error ? err.message : String(err))
    })
  }

  private async runAndWaitForFetch(): Promise<void> {
    const { consumer, config } = this.deps
    let removeJoin = () => {}
    let removeFetch = () => {}
    let removeCrash = () => {}
    let timer: NodeJS.Timeout | undefined
    // Joined, start offsets pinned, then one fetch that began after the pinning (seeks apply at
    // the start of a fetch): from then on every newly published record will be delivered.
    const fetched = new Promise<void>((resolve, reject) => {
      removeJoin = consumer.on(consumer.events.GROUP_JOIN, () => {
        removeJoin()
        void this.pinning.then(() => {
          removeFetch = consumer.on(consumer.events.FETCH_START, () => {
            removeFetch()
            removeFetch = consumer.on(consumer.events.FETCH, () => resolve())
          })
        })
      })
      removeCrash = consumer.on(consumer.events.CRASH, (e) => {
        if (!e.payload.restart) reject(e.payload.error)
      })
      this.abortJoinWait = () => reject(new Error('unsubscribed while joining'))
      const waitMs = config.sessionTimeout + 30_000
      timer = setTimeout(() => reject(new Error(`no partition assignment within ${waitMs} ms`)), waitMs)
    })
    // Rejected by an unsubscribe before it is awaited must not count as unhandled.
    fetched.catch(() => {})
    try {
      await consumer.run(this.runConfig)
      this.running = true
      this.committer.start()
      await fetched
      // The pinned start offsets: kafkajs skips commits until run() has joined, so they go now.
      await this.committer.commit()
    } finally {
      removeJoin()
      removeFetch()
      removeCrash()
      clearTimeout(timer)
    }
  }

  private async matchingTopics(): Promise<string[]> {
    const filter = this.deps.filter
    if (!('pattern' in filter)) return []
    const all = await (await this.deps.admin()).listTopics()
    return all.filter((t) => !t.startsWith('__') && filter.pattern.test(t))
  }

  private scheduleRefresh(): void {
    if (this.stopped) return
    this.refreshTimer = setTimeout(() => {
      this.restarting = this.refresh()
        .catch((err: unknown) =>
          this.deps.ctx.logger.warn('kafka: topic refresh failed', {
            clientId: this.deps.ctx.clientId,
            error: err instanceof Error ? err.message : String(err),
          }),
        )
        .finally(() => this.scheduleRefresh())
    }, this.deps.config.topicRefresh)
  }

  private async refresh(): Promise<void> {
    const fresh = (await this.matchingTopics()).filter((t) => !this.topics.has(t))
    if (fresh.length === 0 || this.stopped) return
    const consumer = this.deps.consumer
    // kafkajs cannot add topics to a running consumer: stop, subscribe, run again (one rebalance).
    if (this.running) await consumer.stop()
    this.running = false
    await consumer.subscribe({ topics: fresh, fromBeginning: true })
    for (const t of fresh) this.topics.add(t)
    if (!this.stopped) await this.runAndWaitForFetch()
  }
}
