import { requireService } from '@iotload/sdk/testing'
import { Redis } from 'ioredis'
import { afterAll, describe, expect, it } from 'vitest'
import { createLogger } from '../log/logger.ts'
import { LeaseKeeper } from './lease-keeper.ts'

const redisUp = await requireService('Redis', '127.0.0.1', 6379)
const prefix = `iotload-keeper-${process.pid}-${Date.now()}`
const logger = createLogger({ level: 'warn' })

/** Blocks this thread's event loop, as a synchronous merge did. */
function blockFor(ms: number): void {
  const until = Date.now() + ms
  while (Date.now() < until) {}
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe.skipIf(!redisUp)('LeaseKeeper', () => {
  const redis = new Redis('redis://127.0.0.1:6379')
  const keepers: LeaseKeeper[] = []
  const keeper = async (stallBudgetMs?: number) => {
    const k = new LeaseKeeper({
      redis: { url: 'redis://127.0.0.1:6379' },
      logger,
      ...(stallBudgetMs ? { stallBudgetMs } : {}),
    })
    keepers.push(k)
    await k.ready
    return k
  }
  afterAll(async () => {
    await Promise.all(keepers.map((k) => k.close()))
    const names = ['blocked', 'hung', 'taken', 'claim', 'lock', 'member:x', 'members']
    await redis.del(...names.map((n) => `${prefix}:${n}`))
    redis.disconnect()
  })

  it('keeps a lease while the main thread is blocked for three leases', async () => {
    const k = await keeper()
    const key = `${prefix}:blocked`
    expect(await redis.set(key, 'me', 'PX', 1000, 'NX')).toBe('OK')
    let lost = false
    k.hold(key, 'me', 1000, () => {
      lost = true
    })
    blockFor(3500)
    await wait(50)
    expect(await redis.get(key)).toBe('me')
    expect(lost).toBe(false)
    k.drop(key)
  })

  it('lets the lease lapse when the main thread is silent past the stall budget', async () => {
    const k = await keeper(1200)
    const key = `${prefix}:hung`
    await redis.set(key, 'me', 'PX', 800, 'NX')
    k.hold(key, 'me', 800, () => {})
    blockFor(3000)
    expect(await redis.get(key)).toBeNull()
  })

  it('reports a lease someone else holds, with the holder', async () => {
    const k = await keeper()
    const key = `${prefix}:taken`
    await redis.set(key, 'me', 'PX', 600, 'NX')
    const holder = new Promise<string | null>((r) => k.hold(key, 'me', 600, r))
    await redis.set(key, 'other', 'PX', 5000)
    expect(await holder).toBe('other')
  })

  it('takes a lapsed claim back only when allowed', async () => {
    const k = await keeper()
    const claim = `${prefix}:claim`
    const lock = `${prefix}:lock`
    await redis.set(claim, 'me', 'PX', 600)
    await redis.set(lock, 'me', 'PX', 600)
    let claimLost = false
    k.hold(
      claim,
      'me',
      600,
      () => {
        claimLost = true
      },
      true,
    )
    const lockLost = new Promise<string | null>((r) => k.hold(lock, 'me', 600, r))
    await redis.del(claim, lock)
    expect(await lockLost).toBeNull()
    await wait(500)
    expect(await redis.get(claim)).toBe('me')
    expect(claimLost).toBe(false)
  })

  it('registers the member and renews it', async () => {
    const k = await keeper()
    const key = `${prefix}:member:x`
    k.register(key, `${prefix}:members`, 'x', '{"id":"x"}', 600)
    await wait(1500)
    expect(await redis.get(key)).toBe('{"id":"x"}')
    expect(await redis.sismember(`${prefix}:members`, 'x')).toBe(1)
    k.drop(key)
  })
})
