import { requireService } from '@iotload/sdk/testing'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { createSecurityFixture, getWithHost, refused } from './testing/security-fixture.ts'
import { killStartedDaemons, postRun, spawnDaemon, startDaemon, until } from './testing/daemon-process.ts'

// Regression tests of issue #11's attacks against a real daemon (shared fixture: testing/security-fixture.ts).

const up = await requireService('Mosquitto', '127.0.0.1', 1883)
const { dir, topic, marker, outside, transforms, secretsDir, evil, scenario, nothingRan, remove } =
  createSecurityFixture()

afterAll(() => {
  killStartedDaemons()
  remove()
})

describe.skipIf(!up)('security: what the operator opened, and only that', () => {
  it('#1 loads a transform module from --transform-dir only, symlinks resolved', async () => {
    const file = join(dir, 'transform.db')
    const t = await startDaemon(file, ['--transform-dir', transforms])
    const bridged = (module: string) =>
      scenario({ bridge: { from: `${topic}/t/{device}`, to: `${topic}/to/{device}`, transform: { module } } })
    const msg = (await refused(await postRun(t.url, bridged(evil)), 400, 'bridge.transform.module')).error
      .message
    expect(msg).toMatch(/not inside the daemon's --transform-dir/)
    await refused(await postRun(t.url, bridged(join(transforms, 'link.mjs'))), 400, 'bridge.transform.module')
    await refused(await postRun(t.url, bridged('../outside/evil.mjs')), 400, 'bridge.transform.module')
    const missing = await refused(await postRun(t.url, bridged('nope.mjs')), 400, 'bridge.transform.module')
    expect(missing.error.message).toMatch(/no such file/)
    await refused(
      await postRun(
        t.url,
        scenario({ bridge: { from: 'a/{device}', to: 'b/{device}', transform: { map: { x: '$.a[' } } } }),
      ),
      400,
      'bridge.transform.map.x',
    )
    await nothingRan(t.url, file)
    const ok = await postRun(t.url, bridged('ok.mjs'))
    expect(ok.status, await ok.clone().text()).toBe(201)
    const { id } = (await ok.json()) as { id: string }
    const run = await until('the run to end', async () => {
      const r = (await (await fetch(`${t.url}/v1/runs/${id}`)).json()) as {
        status: string
        error: string | null
      }
      return ['completed', 'failed', 'stopped'].includes(r.status) ? r : undefined
    })
    expect(run.status, String(run.error)).toBe('completed')
    expect(existsSync(marker)).toBe(false)
  }, 120_000)

  it('#4 #6 reads ${file:} only inside --secrets-dir, only regular files, and never blocks on a FIFO', async () => {
    const file = join(dir, 'secrets.db')
    const t = await startDaemon(file, ['--secrets-dir', secretsDir, '--secret-env', 'LISTED_PW'], {
      LISTED_PW: 'listed-Secret-11',
      IOTLOAD_SECRET_MQTT: 'prefixed-Secret-22',
      UNLISTED_PW: 'unlisted-Secret-33',
    })
    const withPw = (password: string) =>
      scenario({
        broker: { plugin: 'mqtt', url: 'mqtt://127.0.0.1:1883', auth: { username: 'u', password } },
      })
    const escaped = await refused(await postRun(t.url, withPw('${file:escape}')), 400, 'broker.auth.password')
    expect(escaped.error.message).toMatch(/not inside the daemon's --secrets-dir/)
    await refused(
      await postRun(t.url, withPw(`\${file:${join(outside, 'secret.txt')}}`)),
      400,
      'broker.auth.password',
    )
    await refused(await postRun(t.url, withPw('${env:UNLISTED_PW}')), 400, 'broker.auth.password')
    const t0 = Date.now()
    const fifo = postRun(t.url, withPw('${file:fifo}'))
    // The daemon answers other requests while (and after) it looks at the FIFO.
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200)
    expect((await refused(await fifo, 400, 'broker.auth.password')).error.message).toMatch(
      /not a regular file/,
    )
    expect(Date.now() - t0).toBeLessThan(10_000)
    await nothingRan(t.url, file)
    const ids: string[] = []
    for (const pw of ['${file:mqtt-pw}', '${env:LISTED_PW}', '${env:IOTLOAD_SECRET_MQTT}']) {
      const res = await postRun(t.url, withPw(pw))
      expect(res.status, await res.clone().text()).toBe(201)
      ids.push(((await res.json()) as { id: string }).id)
    }
    for (const id of ids) {
      const text = await until(`run ${id}`, async () => {
        const body = await (await fetch(`${t.url}/v1/runs/${id}`)).text()
        return /"status":"(completed|failed)"/.test(body) ? body : undefined
      })
      expect(text).toMatch(/"status":"completed"/)
      for (const secret of ['inside-Secret-7d1e', 'listed-Secret-11', 'prefixed-Secret-22'])
        expect(text).not.toContain(secret)
    }
    expect(t.stderr()).not.toMatch(/Secret-(7d1e|11|22|33)|outside-secret-value/)
  }, 120_000)

  it('#8 never shows or stores a URL password with an empty user', async () => {
    const file = join(dir, 'urlpw.db')
    const t = await startDaemon(file)
    const res = await postRun(
      t.url,
      scenario({ broker: { plugin: 'mqtt', url: 'mqtt://:NoUserPw77@127.0.0.1:1883' } }),
    )
    const text = await res.text()
    expect(res.status, text).toBe(201)
    const { id } = JSON.parse(text) as { id: string }
    const detail = await until('the run to end', async () => {
      const body = await (await fetch(`${t.url}/v1/runs/${id}`)).text()
      return /"status":"(completed|failed)"/.test(body) ? body : undefined
    })
    expect(detail).not.toContain('NoUserPw77')
    expect(detail).toContain('mqtt://:[redacted]@127.0.0.1:1883')
    const sqlite = new Database(file, { readonly: true })
    const row = JSON.stringify(sqlite.prepare('SELECT * FROM runs').all())
    sqlite.close()
    expect(row).not.toContain('NoUserPw77')
    expect(t.stderr()).not.toContain('NoUserPw77')
  }, 90_000)

  it("#3 refuses --allowed-host '*' without a token: that would reopen DNS rebinding", async () => {
    const d = spawnDaemon(['--port', '0', '--db', join(dir, 'star.db'), '--allowed-host', '*'])
    expect(await d.exit).toBe(2)
    expect(d.stderr()).toMatch(/needs a token/)
  }, 60_000)

  it('#3 answers to names the operator listed with --allowed-host, and to origins listed with --allowed-origin', async () => {
    const t = await startDaemon(join(dir, 'hosts.db'), [
      '--allowed-host',
      'iotload.internal,*.svc.example',
      '--allowed-origin',
      'https://ui.example:8443',
    ])
    for (const host of ['iotload.internal:7878', 'a.svc.example', 'localhost:1'])
      expect((await getWithHost(t.url, '/v1/runs', host)).status, host).toBe(200)
    for (const host of ['svc.example.attacker.example', 'svc.example', 'iotload.internal.attacker.example'])
      expect((await getWithHost(t.url, '/v1/runs', host)).status, host).toBe(421)
    const ok = await fetch(`${t.url}/v1/runs`, { headers: { origin: 'https://ui.example:8443' } })
    expect(ok.status).toBe(200)
    await refused(await fetch(`${t.url}/v1/runs`, { headers: { origin: 'https://ui.example' } }), 403)
  }, 90_000)
})
