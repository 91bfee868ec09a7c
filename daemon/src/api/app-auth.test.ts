import { describe, expect, it } from 'vitest'
import { createApp } from './app.ts'
import { RunManager } from '../service/run-manager.ts'
import { SqliteStore } from '../store/sqlite-store.ts'
import { quiet, setup } from './testing/app-setup.ts'

describe('bearer token', () => {
  const token = 'a-very-long-test-token-0123456789'
  const { app } = setup({ token })

  it('requires the token everywhere but /healthz', async () => {
    expect((await app.request('/healthz')).status).toBe(200)
    for (const path of ['/v1/runs', '/v1/plugins', '/metrics', '/openapi.json', '/v1/runs/x']) {
      const res = await app.request(path)
      expect(res.status, path).toBe(401)
      expect(res.headers.get('www-authenticate')).toContain('Bearer')
    }
    expect((await app.request('/v1/runs', { headers: { authorization: `Bearer ${token}x` } })).status).toBe(
      401,
    )
    expect((await app.request('/v1/runs', { headers: { authorization: `Basic ${token}` } })).status).toBe(401)
    expect((await app.request('/v1/runs', { headers: { authorization: `Bearer ${token}` } })).status).toBe(
      200,
    )
    expect((await app.request('/v1/runs', { headers: { authorization: `bearer ${token}` } })).status).toBe(
      200,
    )
  })

  it('scrubs registered secrets from responses value by value, keeping the JSON valid', async () => {
    const { secrets } = await import('../log/secret-registry.ts')
    const odd = '}]},"x":"zz-odd-secret'
    secrets.add(odd)
    secrets.add('plain-secret-xyz')
    const store = new SqliteStore(':memory:')
    store.createRun({
      id: 'leak1',
      name: 'n plain-secret-xyz',
      scenario: { k: odd, 'plain-secret-xyz': 1 },
      createdAt: 1,
    })
    const app = createApp({ manager: new RunManager({ store, logger: quiet }), logger: quiet })
    const text = await (await app.request('/v1/runs/leak1')).text()
    expect(text).not.toContain('plain-secret-xyz')
    expect(text).not.toContain('zz-odd-secret')
    const run = JSON.parse(text) as { name: string; scenario: Record<string, unknown> }
    expect(run.name).toBe('n [redacted]')
    expect(run.scenario).toEqual({ k: '[redacted]', '[redacted]': 1 })
    store.close()
  })

  it('never echoes the token', async () => {
    const res = await app.request('/v1/runs/x', { headers: { authorization: `Bearer ${token}` } })
    expect(await res.text()).not.toContain(token)
  })
})
