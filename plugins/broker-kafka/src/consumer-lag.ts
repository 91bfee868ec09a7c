import type { PluginContext } from '@iotload/sdk'
import type { Admin } from 'kafkajs'
import { retrySetup } from './retry-setup.ts'

/** Where a group member stands: per `topic` and partition, the next offset it will hand over. */
export type Positions = Map<string, Map<number, number>>

/** Records that offsets up to `offset` of a partition were handed over. */
export function advance(positions: Positions, topic: string, partition: number, offset: string): void {
  let byPartition = positions.get(topic)
  if (!byPartition) {
    byPartition = new Map()
    positions.set(topic, byPartition)
  }
  const next = Number(offset) + 1
  if (next > (byPartition.get(partition) ?? -1)) byPartition.set(partition, next)
}

/**
 * The consumer group's lag over `topics`: per partition, the end offset (high watermark) less how
 * far the group got. How far is this member's own position where it handed records over (exact,
 * committed or not), else the group's committed offset, else where a fresh group starts (the end
 * offset noted at subscribe), else the partition's start. The group is asked, not only this
 * member, so each member of a group answers for all of it.
 */
export async function groupLag(
  admin: Admin,
  groupId: string,
  topics: string[],
  mine: Positions,
  starts: Map<string, Map<number, string>>,
): Promise<number> {
  if (topics.length === 0) return 0
  const committed = await retrySetup(() => admin.fetchOffsets({ groupId, topics }))
  const committedAt = new Map<string, Map<number, number>>()
  for (const { topic, partitions } of committed)
    committedAt.set(topic, new Map(partitions.map((p) => [p.partition, Number(p.offset)])))
  let lag = 0
  for (const topic of topics) {
    const ends = await retrySetup(() => admin.fetchTopicOffsets(topic))
    for (const { partition, high, low } of ends) {
      const c = committedAt.get(topic)?.get(partition) ?? -1
      const start = starts.get(topic)?.get(partition)
      const fallback = c >= 0 ? c : start !== undefined ? Number(start) : Number(low)
      const position = Math.max(mine.get(topic)?.get(partition) ?? -1, fallback)
      lag += Math.max(0, Number(high) - position)
    }
  }
  return lag
}

/** `groupLag`, or undefined (with a warning) when Kafka cannot answer: a backlog is never guessed. */
export async function lagOrUndefined(
  deps: { admin: () => Promise<Admin>; groupId: string; ctx: PluginContext },
  topics: string[],
  mine: Positions,
  starts: Map<string, Map<number, string>>,
): Promise<number | undefined> {
  try {
    return await groupLag(await deps.admin(), deps.groupId, topics, mine, starts)
  } catch (err) {
    deps.ctx.logger.warn('kafka: could not read the consumer lag', {
      clientId: deps.ctx.clientId,
      error: err instanceof Error ? err.message : String(err),
    })
    return undefined
  }
}
