/** iotload-broker-redis-streams: a Redis Streams broker plugin for iotload. */
export { type RedisStreamsConfig, redisStreamsConfigSchema } from './config.ts'
export { default } from './plugin.ts'
