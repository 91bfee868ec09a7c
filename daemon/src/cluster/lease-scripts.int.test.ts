import { requireService } from '@iotload/sdk/testing'
import { Redis } from 'ioredis'
import { afterAll, describe, expect, it } from 'vitest'
import { scripted, scriptedMulti } from './lease-scripts.ts'

const redisUp = await requireService('Redis', '127.0.0.1', 6379)
const p = `iotload-scripts-${process.pid}-${Date.now()}`
const k = (n: string) => `${p}:${n}`

describe.skipIf(!redisUp)('lease scripts', () => {
  const redis = new Redis('redis://127.0.0.1:6379')
  const r = scripted(redis)
  afterAll(async () => {
    await redis.del(...['lock', 'count', 'handover', 'claim', 'res', 'claim2'].map(k))
    redis.disconnect()
  })

  it('adopt takes a free lock and counts stalls, not hand-overs', async () => {
    expect(await r.iotloadAdopt(k('lock'), k('count'), k('handover'), 'a', 5000, 60)).toEqual([1, ''])
    // Held: nobody else adopts.
    expect(await r.iotloadAdopt(k('lock'), k('count'), k('handover'), 'b', 5000, 60)).toEqual([-1, ''])
    // Handed over on shutdown: the next adoption is not counted and names who handed it over.
    expect(await r.iotloadHandOver(k('lock'), k('handover'), 'a', 60)).toBe(1)
    expect(await r.iotloadAdopt(k('lock'), k('count'), k('handover'), 'b', 5000, 60)).toEqual([1, 'a'])
    await redis.del(k('lock'))
    expect(await r.iotloadAdopt(k('lock'), k('count'), k('handover'), 'c', 5000, 60)).toEqual([2, ''])
  })

  it('writes a topic-second only while the claim is ours; a retired claim stays taken', async () => {
    await redis.set(k('claim'), 'me', 'PX', 5000)
    await redis.set(k('claim2'), 'other', 'PX', 5000)
    const m = scriptedMulti(redis)
    m.iotloadWriteIfOwner(k('claim'), k('res'), 'me', '1:me', 'a', 60)
    m.iotloadWriteIfOwner(k('claim2'), k('res'), 'me', '2:me', 'b', 60)
    m.iotloadWriteIfOwner(k('missing'), k('res'), 'me', '3:me', 'c', 60)
    expect((await m.exec())?.map(([, v]) => v)).toEqual([1, 0, -1])
    expect(await redis.hgetall(k('res'))).toEqual({ '1:me': 'a' })
    expect(await r.iotloadRetireClaim(k('claim'), 'me', 60)).toBe(1)
    expect(await redis.get(k('claim'))).toBe('released:me')
    expect(await redis.set(k('claim'), 'late', 'PX', 5000, 'NX')).toBeNull()
  })
})
