import { describe, expect, it } from 'vitest'
import { redactRedisUrl } from './redis-client.ts'
import { clusterSettingsFrom } from './cluster-run-manager.ts'

describe('cluster settings', () => {
  it('never shows the Redis password', () => {
    expect(redactRedisUrl('rediss://user:s3cret@redis:6380/0')).toBe('rediss://user:***@redis:6380/0')
    expect(redactRedisUrl('not a url')).not.toContain('not a url')
  })

  it('reads roles, capacity, lease and password from the environment', () => {
    const s = clusterSettingsFrom(
      { host: '127.0.0.2' },
      {
        IOTLOAD_CLUSTER_URL: 'redis://r:6379',
        IOTLOAD_CLUSTER_PASSWORD: 'pw',
        IOTLOAD_ROLES: 'producer, bridge',
        IOTLOAD_CAPACITY: '300',
        IOTLOAD_CLUSTER_LEASE_MS: '3000',
      },
    )
    expect(s).toMatchObject({
      redis: { url: 'redis://r:6379', password: 'pw' },
      roles: ['producer', 'bridge'],
      capacity: 300,
      leaseMs: 3000,
      advertiseHost: '127.0.0.2',
      prefix: 'iotload',
    })
    expect(clusterSettingsFrom({ host: 'h' }, {})).toBeUndefined()
    expect(() => clusterSettingsFrom({ host: 'h', cluster: 'redis://x' }, { IOTLOAD_ROLES: 'boss' })).toThrow(
      /boss/,
    )
    expect(() =>
      clusterSettingsFrom({ host: 'h', cluster: 'redis://x' }, { IOTLOAD_CAPACITY: '-1' }),
    ).toThrow()
  })
})
