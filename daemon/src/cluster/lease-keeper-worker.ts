/**
 * The lease keeper's thread (see lease-keeper.ts): renews this daemon's registration, coordinator
 * locks and topic claims on its own event loop and its own Redis connection, so no work of the
 * main thread (a merge, a burst of messages, a stalled plugin) can delay a renewal. It stops
 * renewing when the main thread has not shown a sign of life for the stall budget, so a hung
 * daemon still loses its leases.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { describeError } from '@iotload/sdk'
import { createLogger } from '../log/logger.ts'
import { createRedis, type RedisSettings } from './redis-client.ts'

/** Settings the main thread hands to the keeper thread. */
export interface KeeperWorkerData {
  redis: RedisSettings
  /** Int64 cell: epoch ms of the main thread's last sign of life. */
  alive: SharedArrayBuffer
  stallBudgetMs: number
}

/** Messages main → keeper. */
export type KeeperCommand =
  | { op: 'member'; key: string; setKey: string; id: string; value: string; ttlMs: number }
  | { op: 'hold'; key: string; owner: string; leaseMs: number; reclaim: boolean }
  | { op: 'drop'; keys: string[] }
  | { op: 'close' }

/** Messages keeper → main. */
export type KeeperEvent =
  | { op: 'lost'; key: string; holder: string | null }
  | { op: 'stalled'; sinceMs: number }
  | { op: 'ready' }
  | { op: 'closed' }

// Renews while the value is ours (1); a missing key is taken back only where allowed (2: a claim
// whose lease lapsed while nobody else took it); otherwise answers the holder (or false).
const RENEW = `local h = redis.call('get', KEYS[1])
if h == ARGV[1] then redis.call('pexpire', KEYS[1], ARGV[2]) return 1 end
if not h and ARGV[3] == '1' then redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 2 end
return h`

interface Held {
  owner: string
  leaseMs: number
  reclaim: boolean
  renewedAt: number
}

const TICK_MS = 100
const data = workerData as KeeperWorkerData
const port = parentPort!
const logger = createLogger({}, { thread: 'lease-keeper' })
const redis = createRedis(data.redis, logger, 'lease-keeper')
redis.defineCommand('iotloadKeeperRenew', { numberOfKeys: 1, lua: RENEW })
const alive = new BigInt64Array(data.alive)
const held = new Map<string, Held>()
let member: Extract<KeeperCommand, { op: 'member' }> | undefined
let memberAt = 0
let busy = false
let stalled = false

const post = (e: KeeperEvent) => port.postMessage(e)

async function tick(): Promise<void> {
  const now = Date.now()
  const silentMs = now - Number(Atomics.load(alive, 0))
  if (silentMs > data.stallBudgetMs) {
    // The main thread is hung: let every lease lapse so other daemons take over.
    if (!stalled) post({ op: 'stalled', sinceMs: silentMs })
    stalled = true
    return
  }
  stalled = false
  const due = [...held].filter(([, h]) => now - h.renewedAt >= h.leaseMs / 3)
  const memberDue = member !== undefined && now - memberAt >= member.ttlMs / 3
  if (due.length === 0 && !memberDue) return
  const m = redis.multi()
  if (member && memberDue) m.set(member.key, member.value, 'PX', member.ttlMs).sadd(member.setKey, member.id)
  for (const [key, h] of due)
    (m as unknown as Record<string, (...a: unknown[]) => void>).iotloadKeeperRenew!(
      key,
      h.owner,
      h.leaseMs,
      h.reclaim ? '1' : '0',
    )
  let res: [Error | null, unknown][]
  try {
    res = (await m.exec()) ?? []
  } catch (err) {
    logger.debug('lease renewal failed; retrying', { error: describeError(err) })
    return
  }
  if (member && memberDue) memberAt = now
  const offset = member && memberDue ? 2 : 0
  due.forEach(([key, h], i) => {
    const [err, v] = res[offset + i] ?? [null, null]
    if (err) return // retried on the next tick
    if (v === 1 || v === 2) {
      h.renewedAt = now
      return
    }
    if (held.get(key) !== h) return // dropped meanwhile
    held.delete(key)
    post({ op: 'lost', key, holder: typeof v === 'string' ? v : null })
  })
}

post({ op: 'ready' })
const timer = setInterval(() => {
  if (busy) return
  busy = true
  void tick().finally(() => {
    busy = false
  })
}, TICK_MS)

port.on('message', (c: KeeperCommand) => {
  switch (c.op) {
    case 'member':
      member = c
      memberAt = 0
      break
    case 'hold':
      held.set(c.key, { owner: c.owner, leaseMs: c.leaseMs, reclaim: c.reclaim, renewedAt: Date.now() })
      break
    case 'drop':
      for (const k of c.keys) held.delete(k)
      if (member && c.keys.includes(member.key)) member = undefined
      break
    case 'close':
      clearInterval(timer)
      held.clear()
      member = undefined
      redis.disconnect()
      post({ op: 'closed' })
      port.close()
      break
  }
})
