import { afterAll, describe, expect, it } from 'vitest'
import { json, setup } from './testing/app-setup.ts'

// Fleet scenarios the daemon refuses with 400 naming the field, before anything connects.
describe('POST /v1/runs refuses a fleet it cannot run', () => {
  const { store, app } = setup()
  afterAll(() => store.close())

  const post = async (scenario: Record<string, unknown>) => {
    const res = await app.request('/v1/runs', json(scenario))
    return {
      status: res.status,
      error: ((await res.json()) as { error: { path: string; message: string } }).error,
    }
  }

  it('a fan-out on a plugin that declares none', async () => {
    const r = await post({
      broker: {
        plugin: 'zeromq',
        endpoints: { producer: { connect: 'tcp://127.0.0.1:1' }, consumer: { bind: 'tcp://127.0.0.1:1' } },
      },
      producer: { devices: 1, rate: '1/s', duration: '1s' },
      consumer: { mode: 'fanout', connections: 2 },
    })
    expect(r.status).toBe(400)
    expect(r.error.path).toBe('consumer.mode')
    expect(r.error.message).toMatch(/zeromq plugin cannot give every subscriber every message/)
  })

  it('groups with duplicate names', async () => {
    const group = { name: 'meters', devices: 1, rate: '1/s', duration: '1s' }
    const r = await post({ broker: { plugin: 'memory', bus: 'rest-groups' }, producers: [group, group] })
    expect(r.status).toBe(400)
    expect(r.error.path).toBe('producers[1].name')
  })

  it('an identities file outside the secrets dir', async () => {
    const r = await post({
      broker: { plugin: 'memory', bus: 'rest-ids' },
      producer: { devices: 1, rate: '1/s', duration: '1s', identities: '/etc/passwd' },
    })
    expect(r.status).toBe(400)
    expect(r.error.path).toBe('producer.identities')
  })
})
