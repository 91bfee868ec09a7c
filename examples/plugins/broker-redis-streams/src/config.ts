import { z } from 'zod'

/**
 * The scenario's `broker:` section for Redis Streams. Each iotload topic is one stream, at key
 * `keyPrefix + topic`; Redis has no wildcard over stream keys, so consumers name one stream.
 */
export const redisStreamsConfigSchema = z
  .object({
    /** `redis://[user:password@]host:port[/db]` or `rediss://…`. */
    url: z.string().regex(/^rediss?:\/\//, 'expected a redis:// or rediss:// URL'),
    /** Prepended to every stream key, so runs and tenants do not see each other's streams. @default '' */
    keyPrefix: z.string().max(200).default(''),
    /** Approximate stream length kept (`XADD … MAXLEN ~ n`); unset keeps everything. */
    maxLen: z.number().int().positive().optional(),
    /** How long one XREAD/XREADGROUP call blocks, ms. @default 1000 */
    blockMs: z.number().int().min(10).max(60_000).default(1000),
    /** Entries read per call. @default 256 */
    batch: z.number().int().min(1).max(10_000).default(256),
    /** Connect timeout, ms. @default 5000 */
    connectTimeout: z.number().int().min(100).default(5000),
  })
  .strict()

/** Parsed `broker:` section. */
export type RedisStreamsConfig = z.output<typeof redisStreamsConfigSchema>
