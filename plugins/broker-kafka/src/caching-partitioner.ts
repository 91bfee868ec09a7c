import type { ICustomPartitioner } from 'kafkajs'

/** Keys remembered per topic at most; a fleet's device ids fit many times over. */
const MAX_KEYS = 100_000

/**
 * kafkajs' default partitioner with its answers for keyed records remembered. For a key it is
 * murmur2 of the key modulo the partition count, so the answer never changes while the count
 * stays; kafkajs computes murmur2 with a 64-bit `Long` object per step and filters the partition
 * list on every record, which showed in the seed example's profile. Device ids repeat, so each is
 * hashed once. Records without a key, or with an explicit partition, go to the default as before.
 */
export function cachingPartitioner(inner: ICustomPartitioner): ICustomPartitioner {
  return () => {
    const choose = inner()
    const byTopic = new Map<string, { partitions: number; byKey: Map<string, number> }>()
    return (args) => {
      const { topic, partitionMetadata, message } = args
      const key = message.key
      if (typeof key !== 'string' || (message.partition !== undefined && message.partition !== null))
        return choose(args)
      let t = byTopic.get(topic)
      if (!t || t.partitions !== partitionMetadata.length) {
        t = { partitions: partitionMetadata.length, byKey: new Map() }
        byTopic.set(topic, t)
      }
      let partition = t.byKey.get(key)
      if (partition === undefined) {
        partition = choose(args)
        if (t.byKey.size < MAX_KEYS) t.byKey.set(key, partition)
      }
      return partition
    }
  }
}
