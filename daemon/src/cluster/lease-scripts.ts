import type { Redis } from 'ioredis'

// Fixed scripts (never built from data). Each acts only while a lease is still the caller's, so a
// daemon that stalled past its lease can neither move a run nor record a topic someone else owns.

const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`
// A claim ended with its run: leave a marker, so nobody takes the topic back and records it twice.
const RETIRE_CLAIM = `if redis.call('get', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('set', KEYS[1], 'released:' .. ARGV[1], 'EX', ARGV[2])
return 1`
// Sets KEYS[2] to ARGV[2] (expiring in ARGV[3] s) only while the lock KEYS[1] is ARGV[1]'s.
const SET_IF_OWNER = `if redis.call('get', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('set', KEYS[2], ARGV[2], 'EX', ARGV[3])
return 1`
// Ends a run's coordination in one step, only while the coordinator lock (KEYS[1]) is ARGV[1]'s:
// the run leaves the coordinated set (KEYS[2]), its state (KEYS[3]) becomes ARGV[3], the lock goes.
const END_COORDINATION = `if redis.call('get', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('srem', KEYS[2], ARGV[2])
redis.call('set', KEYS[3], ARGV[3], 'EX', ARGV[4])
return redis.call('del', KEYS[1])`
// One topic-second written only while the claim (KEYS[1]) is ARGV[1]'s: 1 written, 0 another
// member holds it (the record is dropped), -1 the claim is gone (kept and retried).
const WRITE_IF_OWNER = `local h = redis.call('get', KEYS[1])
if h == ARGV[1] then
  redis.call('hset', KEYS[2], ARGV[2], ARGV[3])
  redis.call('expire', KEYS[2], ARGV[4])
  return 1
end
if not h then return -1 end
return 0`
// Takes an orphaned run's lock (KEYS[1]) and counts the adoption in KEYS[2] unless the last
// coordinator handed the run over on shutdown (KEYS[3]). Returns {adoptions, handedOverBy}, or
// {-1, ''} when the lock was taken meanwhile.
const ADOPT = `if not redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return {-1, ''} end
local by = redis.call('get', KEYS[3])
redis.call('del', KEYS[3])
local n
if by then n = tonumber(redis.call('get', KEYS[2]) or '0') else n = redis.call('incr', KEYS[2]) end
redis.call('expire', KEYS[2], ARGV[3])
return {n, by or ''}`
// A coordinator shutting down gives its run to the next daemon without it counting as a stall.
const HAND_OVER = `if redis.call('get', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('set', KEYS[2], ARGV[1], 'EX', ARGV[2])
return redis.call('del', KEYS[1])`

/** The connection with the lease scripts defined. */
export type ScriptedRedis = Redis & {
  iotloadReleaseClaim(key: string, owner: string): Promise<number>
  iotloadRetireClaim(key: string, owner: string, ttlS: number): Promise<number>
  iotloadSetIfOwner(lock: string, key: string, owner: string, value: string, ttlS: number): Promise<number>
  iotloadEndCoordination(
    lock: string,
    runs: string,
    state: string,
    owner: string,
    run: string,
    finalState: string,
    ttlS: number,
  ): Promise<number>
  iotloadAdopt(
    lock: string,
    adoptions: string,
    handover: string,
    owner: string,
    leaseMs: number,
    ttlS: number,
  ): Promise<[number, string]>
  iotloadHandOver(lock: string, handover: string, owner: string, ttlS: number): Promise<number>
}

/** A MULTI with the per-topic scripts (ioredis adds defined commands to pipelines too). */
export interface ClaimPipeline {
  iotloadReleaseClaim(key: string, owner: string): ClaimPipeline
  iotloadRetireClaim(key: string, owner: string, ttlS: number): ClaimPipeline
  iotloadWriteIfOwner(
    claim: string,
    results: string,
    owner: string,
    field: string,
    value: string,
    ttlS: number,
  ): ClaimPipeline
  exec(): Promise<[Error | null, unknown][] | null>
}

/** The connection with the lease scripts defined (once). */
export function scripted(redis: Redis): ScriptedRedis {
  const r = redis as ScriptedRedis
  if (typeof r.iotloadReleaseClaim !== 'function') {
    redis.defineCommand('iotloadReleaseClaim', { numberOfKeys: 1, lua: RELEASE })
    redis.defineCommand('iotloadRetireClaim', { numberOfKeys: 1, lua: RETIRE_CLAIM })
    redis.defineCommand('iotloadEndCoordination', { numberOfKeys: 3, lua: END_COORDINATION })
    redis.defineCommand('iotloadSetIfOwner', { numberOfKeys: 2, lua: SET_IF_OWNER })
    redis.defineCommand('iotloadWriteIfOwner', { numberOfKeys: 2, lua: WRITE_IF_OWNER })
    redis.defineCommand('iotloadAdopt', { numberOfKeys: 3, lua: ADOPT })
    redis.defineCommand('iotloadHandOver', { numberOfKeys: 2, lua: HAND_OVER })
  }
  return r
}

/** A MULTI on a scripted connection, typed with the per-topic scripts. */
export function scriptedMulti(redis: Redis): ClaimPipeline {
  return scripted(redis).multi() as unknown as ClaimPipeline
}
