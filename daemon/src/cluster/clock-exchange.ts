import { describeError, nowUs } from '@iotload/sdk'
import type { Redis } from 'ioredis'
import type { Logger } from '../log/logger.ts'
import type { ClockEstimate } from './clock.ts'
import type { ClusterKeys } from './keys.ts'

interface ClockRequest {
  reply: string
  t1: number
}
interface ClockReply {
  t1: number
  t2: number
  t3: number
}

/**
 * Answers clock requests addressed to this member: BLPOP on a dedicated connection, stamp t2 on
 * arrival and t3 just before the reply. Runs until `stop()`.
 */
export function serveClock(
  redis: Redis,
  keys: ClusterKeys,
  memberId: string,
  logger: Logger,
): { stop: () => void } {
  const blocking = redis.duplicate()
  blocking.on('error', () => {})
  let stopped = false
  const loop = async () => {
    while (!stopped) {
      try {
        const got = await blocking.blpop(keys.clockRequests(memberId), 1)
        if (!got) continue
        const t2 = nowUs()
        const req = JSON.parse(got[1]) as ClockRequest
        if (typeof req.reply !== 'string' || !req.reply.startsWith(keys.clockReplyPrefix(memberId))) continue
        const reply: ClockReply = { t1: req.t1, t2, t3: nowUs() }
        await blocking.multi().rpush(req.reply, JSON.stringify(reply)).expire(req.reply, 30).exec()
      } catch (err) {
        if (!stopped) {
          logger.debug('clock responder error', { error: describeError(err) })
          await new Promise((r) => setTimeout(r, 500))
        }
      }
    }
  }
  void loop()
  return {
    stop: () => {
      stopped = true
      blocking.disconnect()
    },
  }
}

/**
 * NTP-style four-timestamp exchange with another member over Redis lists: t1 local send, t2/t3
 * the peer's receive/reply stamps, t4 local receive. offset = ((t2 − t1) + (t3 − t4)) / 2 (add it
 * to a local timestamp to get the peer's clock), uncertainty = half the round trip minus the
 * peer's turnaround. The sample with the shortest round trip wins.
 */
export async function exchangeClock(
  redis: Redis,
  keys: ClusterKeys,
  selfId: string,
  peerId: string,
  samples = 8,
): Promise<ClockEstimate> {
  if (selfId === peerId) return { offsetUs: 0, uncertaintyUs: 0, atUs: nowUs() }
  const conn = redis.duplicate()
  conn.on('error', () => {})
  const reply = `${keys.clockReplyPrefix(peerId)}${selfId}`
  try {
    let best: ClockEstimate | undefined
    for (let i = 0; i < samples; i++) {
      const t1 = nowUs()
      await conn
        .multi()
        .rpush(keys.clockRequests(peerId), JSON.stringify({ reply, t1 } satisfies ClockRequest))
        .expire(keys.clockRequests(peerId), 30)
        .exec()
      for (;;) {
        const got = await conn.blpop(reply, 2)
        if (!got) break
        const t4 = nowUs()
        const r = JSON.parse(got[1]) as ClockReply
        if (r.t1 !== t1) continue // a late answer to an earlier sample
        const e: ClockEstimate = {
          offsetUs: Math.round((r.t2 - t1 + (r.t3 - t4)) / 2),
          uncertaintyUs: Math.ceil((t4 - t1 - (r.t3 - r.t2)) / 2) + 1,
          atUs: t4,
        }
        if (!best || e.uncertaintyUs < best.uncertaintyUs) best = e
        break
      }
    }
    if (!best) throw new Error(`no clock answer from ${peerId}`)
    return best
  } finally {
    conn.disconnect()
  }
}
