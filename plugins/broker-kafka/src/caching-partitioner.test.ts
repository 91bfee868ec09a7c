import { Partitioners, type PartitionMetadata } from 'kafkajs'
import { describe, expect, it } from 'vitest'
import { cachingPartitioner } from './caching-partitioner.ts'

const meta = (n: number): PartitionMetadata[] =>
  Array.from({ length: n }, (_, i) => ({
    partitionId: i,
    leader: 1,
    partitionErrorCode: 0,
    replicas: [1],
    isr: [1],
  }))

describe('cachingPartitioner', () => {
  it("answers as kafkajs' default partitioner does, also after the partition count changes", () => {
    const plain = Partitioners.DefaultPartitioner()
    const cached = cachingPartitioner(Partitioners.DefaultPartitioner)()
    for (const n of [10, 10, 3, 7, 10]) {
      for (let d = 0; d < 300; d++) {
        const args = { topic: 't', partitionMetadata: meta(n), message: { key: `dev-${d}`, value: 'x' } }
        expect(cached(args), `dev-${d} over ${n}`).toBe(plain(args))
      }
    }
  })

  it('leaves explicit partitions and keyless records to the default', () => {
    const cached = cachingPartitioner(Partitioners.DefaultPartitioner)()
    const partitionMetadata = meta(4)
    expect(cached({ topic: 't', partitionMetadata, message: { key: 'k', value: 'x', partition: 3 } })).toBe(3)
    const keyless = new Set(
      Array.from({ length: 40 }, () => cached({ topic: 't', partitionMetadata, message: { value: 'x' } })),
    )
    expect(keyless.size).toBeGreaterThan(1) // round robin, not one remembered answer
  })
})
