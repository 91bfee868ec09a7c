import type { Admin, Consumer, IMemberAssignment } from 'kafkajs'
import { advance, type Positions } from './consumer-lag.ts'
import type { OffsetCommitter } from './offset-committer.ts'
import { retrySetup } from './retry-setup.ts'

/** What pinning needs from its subscriber. */
export interface StartOffsetsDeps {
  consumer: Consumer
  groupId: string
  admin: () => Promise<Admin>
  positions: Positions
  committer: OffsetCommitter
}

/**
 * Where a fresh group starts reading: the end offsets noted at subscribe, per topic and partition.
 *
 * kafkajs resolves "latest" lazily, after the join, and retries when the broker answers ListOffsets
 * with an error (as it does for a topic created a moment ago), so records published right after
 * `subscribe` resolved could fall behind the position it finally picks. So each partition's end
 * offset is noted before joining and, for assigned partitions the group has no committed offset
 * for, the member seeks there and commits it, so a restart or a new owner resumes from it too.
 */
export class StartOffsets {
  /** End offsets noted at subscribe, per topic and partition. */
  readonly byTopic = new Map<string, Map<number, string>>()

  constructor(private readonly deps: StartOffsetsDeps) {}

  /** Notes the end offsets of `topics` now. */
  async note(topics: string[]): Promise<void> {
    const admin = await this.deps.admin()
    for (const topic of topics) {
      const ends = await retrySetup(() => admin.fetchTopicOffsets(topic))
      this.byTopic.set(topic, new Map(ends.map((e) => [e.partition, e.high])))
    }
  }

  /** Seeks assigned partitions without a committed offset to the noted end offsets, and commits them. */
  async pin(assignment: IMemberAssignment, stopped: () => boolean): Promise<void> {
    const { consumer, groupId, positions, committer } = this.deps
    const topics = Object.keys(assignment).filter((t) => this.byTopic.has(t))
    if (topics.length === 0 || stopped()) return
    const admin = await this.deps.admin()
    const committed = await retrySetup(() => admin.fetchOffsets({ groupId, topics }))
    for (const { topic, partitions } of committed) {
      const starts = this.byTopic.get(topic)
      const mine = new Set(assignment[topic] ?? [])
      for (const { partition, offset } of partitions) {
        const start = starts?.get(partition)
        if (start === undefined || !mine.has(partition) || Number(offset) >= 0) continue
        consumer.seek({ topic, partition, offset: start })
        // Committed like a handed-over position, so a partition that changes owner before this
        // member read anything resumes here too, not at kafkajs' "latest".
        advance(positions, topic, partition, String(Number(start) - 1))
      }
    }
    await committer.commit()
  }
}
