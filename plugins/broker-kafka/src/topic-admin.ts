import type { PluginLogger } from '@iotload/sdk'
import type { Admin } from 'kafkajs'
import type { KafkaConfig } from './config.ts'
import { retrySetup } from './retry-setup.ts'
import { topicNameProblem } from './topic-filter.ts'

/**
 * Topics already ensured in this process, keyed by bootstrap servers + topic. A fleet of 500
 * device connections publishing to one topic then costs one admin round trip, not 500.
 */
const ensured = new Map<string, Promise<void>>()

function alreadyExists(err: unknown): boolean {
  const e = err as { type?: unknown; errors?: Array<{ type?: unknown }> }
  return (
    e.type === 'TOPIC_ALREADY_EXISTS' || (e.errors?.some((x) => x.type === 'TOPIC_ALREADY_EXISTS') ?? false)
  )
}

async function createOrCheck(
  admin: Admin,
  topic: string,
  config: KafkaConfig,
  logger: PluginLogger,
): Promise<void> {
  let created: boolean
  try {
    created = await retrySetup(() =>
      admin.createTopics({
        topics: [{ topic, numPartitions: config.partitions, replicationFactor: config.replicationFactor }],
        waitForLeaders: true,
      }),
    )
  } catch (err) {
    if (!alreadyExists(err)) throw err
    created = false
  }
  if (created) return
  // It existed: a test planned for N partitions silently running on fewer is worth a warning.
  const meta = await retrySetup(() => admin.fetchTopicMetadata({ topics: [topic] }))
  const have = meta.topics[0]?.partitions.length ?? 0
  if (have < config.partitions)
    logger.warn(
      `topic '${topic}' exists with ${have} partitions, fewer than the configured ${config.partitions}`,
    )
}

/**
 * Makes sure `topic` exists with the configured partitions before the first publish or
 * subscribe. `admin` is only called by the first connection in the process that needs the topic.
 */
export function ensureTopic(
  key: string,
  topic: string,
  admin: () => Promise<Admin>,
  config: KafkaConfig,
  logger: PluginLogger,
): Promise<void> {
  const problem = topicNameProblem(topic)
  if (problem) return Promise.reject(new Error(`invalid topic '${topic}': ${problem}`))
  if (!config.createTopics) return Promise.resolve()
  const id = `${key}|${topic}`
  let pending = ensured.get(id)
  if (!pending) {
    pending = admin().then((a) => createOrCheck(a, topic, config, logger))
    ensured.set(id, pending)
    // A failure must not stick: the next publish asks again.
    pending.catch(() => ensured.delete(id))
  }
  return pending
}
