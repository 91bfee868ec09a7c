import { createRequire } from 'node:module'
import type { Message, PartitionerArgs } from 'kafkajs'
import { describe, expect, it } from 'vitest'
import { type GroupingArgs, groupMessagesPerPartition } from './linear-grouping.ts'

const require = createRequire(import.meta.url)
const file = require.resolve('kafkajs/src/producer/groupMessagesPerPartition.js')
// kafkajs' own, read from its file (the plugin replaces the cached module, not the file).
const original = (() => {
  const m = { exports: {} as unknown }
  const source = require('node:fs').readFileSync(file, 'utf8') as string
  new Function('module', 'exports', 'require', source)(m, m.exports, require)
  return m.exports as (args: GroupingArgs) => Record<string, Message[]>
})()

describe('groupMessagesPerPartition', () => {
  it("returns what kafkajs' own returns: same partitions, same records in the same order", () => {
    const partitionMetadata = Array.from({ length: 7 }, (_, i) => ({
      partitionId: i,
      leader: 1,
      partitionErrorCode: 0,
      replicas: [1],
      isr: [1],
    }))
    const partitioner = ({ message }: PartitionerArgs) => Number(message.key) % 5
    const messages: Message[] = Array.from({ length: 500 }, (_, i) => ({
      key: String((i * 7919) % 101),
      value: `${i}`,
    }))
    const args = { topic: 't', partitionMetadata, messages, partitioner }
    expect(groupMessagesPerPartition(args)).toEqual(original(args))
    expect(groupMessagesPerPartition({ ...args, partitionMetadata: [] })).toEqual(
      original({ ...args, partitionMetadata: [] }),
    )
  })
})
