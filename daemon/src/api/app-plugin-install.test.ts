import { describe, expect, it } from 'vitest'
import { PluginInstaller } from '../service/plugin-installer.ts'
import { RunManager } from '../service/run-manager.ts'
import { SqliteStore } from '../store/sqlite-store.ts'
import { createApp } from './app.ts'
import { json, npmSays, pluginDir, quiet, setup } from './testing/app-setup.ts'

describe('POST /v1/plugins', () => {
  it('is refused with 403 unless the daemon allows installs, before npm runs', async () => {
    let calls = 0
    const { app } = setup({
      allowPluginInstall: false,
      npm: async () => {
        calls++
        return { code: 0, stdout: '', stderr: '', timedOut: false }
      },
    })
    const res = await app.request('/v1/plugins', json({ name: 'kafka' }))
    expect(res.status).toBe(403)
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('PLUGIN_INSTALL_DISABLED')
    expect(calls).toBe(0)
  })

  it('refuses names outside @iotload/broker-* and the allowlist, before npm runs', async () => {
    let calls = 0
    const { app } = setup({
      npm: async () => {
        calls++
        return { code: 0, stdout: '', stderr: '', timedOut: false }
      },
    })
    for (const name of [
      'left.pad',
      'Lodash',
      '@evil/broker-x',
      '@iotload/broker-x@file:../x',
      '--registry=http://x',
      '../x',
      '@iotload/sdk',
    ]) {
      const res = await app.request('/v1/plugins', json({ name }))
      expect(res.status, name).toBe(400)
      expect(((await res.json()) as { error: { path: string } }).error.path).toBe('name')
    }
    expect((await app.request('/v1/plugins', json({ nom: 'x' }))).status).toBe(400)
    expect(calls).toBe(0)
  })

  it('accepts allowlisted packages', async () => {
    const store = new SqliteStore(':memory:')
    const app = createApp({
      manager: new RunManager({ store, logger: quiet }),
      logger: quiet,
      installer: new PluginInstaller({
        prefix: pluginDir(),
        allow: ['my-broker-plugin'],
        npm: npmSays(0, ''),
      }),
      listPlugins: async () => [],
      allowPluginInstall: true,
    })
    const res = await app.request('/v1/plugins', json({ name: 'my-broker-plugin@1.2.3' }))
    expect(res.status).toBe(201)
    expect(await res.json()).toMatchObject({
      package: 'my-broker-plugin',
      requested: 'my-broker-plugin@1.2.3',
      plugin: null,
    })
    store.close()
  })

  it('installs through npm and reports the package', async () => {
    const seen: string[][] = []
    const { app } = setup({
      npm: async (args) => {
        seen.push(args)
        return npmSays(0, '', 'added 1 package in 1s\n')(args, { cwd: '', timeoutMs: 0 })
      },
    })
    const res = await app.request('/v1/plugins', json({ name: 'mqtt' }))
    expect(res.status).toBe(201)
    const body = (await res.json()) as { package: string; plugin: { name: string } | null }
    expect(body.package).toBe('@iotload/broker-mqtt')
    expect(body.plugin?.name).toBe('mqtt')
    expect(seen[0]?.at(-1)).toBe('@iotload/broker-mqtt')
    expect(seen[0]?.at(-2)).toBe('--')
  })

  it('says which failure npm hit: unknown package 404, registry unreachable 502', async () => {
    const notFound = setup({
      npm: npmSays(
        1,
        'npm error code E404\nnpm error 404 Not Found - GET https://registry.npmjs.org/@iotload%2fbroker-zz',
      ),
    })
    const r1 = await notFound.app.request('/v1/plugins', json({ name: 'zz' }))
    expect(r1.status).toBe(404)
    expect(((await r1.json()) as { error: { code: string } }).error.code).toBe('PACKAGE_NOT_FOUND')
    const offline = setup({
      npm: npmSays(
        1,
        'npm error code ENOTFOUND\nnpm error network request to https://registry.npmjs.org failed',
      ),
    })
    const r2 = await offline.app.request('/v1/plugins', json({ name: 'zz' }))
    expect(r2.status).toBe(502)
    expect(((await r2.json()) as { error: { code: string } }).error.code).toBe('REGISTRY_UNREACHABLE')
  })
})
