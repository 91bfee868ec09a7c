import { requireService } from '@iotload/sdk/testing'
import { createConnection } from 'node:net'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { createSecurityFixture, rawPost } from './testing/security-fixture.ts'
import { killStartedDaemons, postRun, startDaemon, until } from './testing/daemon-process.ts'

// Regression tests of issue #11's attacks against a real daemon (shared fixture: testing/security-fixture.ts).

const up = await requireService('Mosquitto', '127.0.0.1', 1883)
const { dir, secretsDir, evil, scenario, nothingRan, remove } = createSecurityFixture()

afterAll(() => {
  killStartedDaemons()
  remove()
})

describe.skipIf(!up)('security: an attacker’s second look (review of issue #11)', () => {
  it('refuses __proto__ keys: an inherited section never reaches validation or the plugin loader', async () => {
    const file = join(dir, 'proto.db')
    const t = await startDaemon(file)
    const json = `{"broker":{"plugin":"mqtt","url":"mqtt://127.0.0.1:1"},"producer":{"devices":1,"rate":"1/s","duration":"1s"},"__proto__":{"bridge":{"from":"a/{device}","to":"b/{device}","broker":{"plugin":${JSON.stringify(evil)}}}}}`
    const viaJson = await rawPost(
      t.url,
      '/v1/runs',
      { host: new URL(t.url).host, 'content-type': 'application/json' },
      json,
    )
    expect(viaJson.status, viaJson.text).toBe(400)
    expect(viaJson.text).toMatch(/__proto__/)
    const yaml = `broker: {plugin: mqtt, url: "mqtt://127.0.0.1:1"}\nproducer: {devices: 1, rate: 1/s, duration: 1s}\n__proto__:\n  bridge: {from: "a/{device}", to: "b/{device}", broker: {plugin: ${JSON.stringify(evil)}}}\n`
    const viaYaml = await rawPost(
      t.url,
      '/v1/runs',
      { host: new URL(t.url).host, 'content-type': 'application/yaml' },
      yaml,
    )
    expect(viaYaml.status, viaYaml.text).toBe(400)
    await nothingRan(t.url, file)
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200)
  }, 90_000)

  it('never quotes a resolved secret: a reference in a TLS field must resolve to PEM text', async () => {
    const file = join(dir, 'tlsref.db')
    const t = await startDaemon(file, ['--secrets-dir', secretsDir], { IOTLOAD_SECRET_DBPW: 'EnvS3cret!val' })
    for (const ref of ['${env:IOTLOAD_SECRET_DBPW}', '${file:mqtt-pw}']) {
      const res = await postRun(
        t.url,
        scenario({ broker: { plugin: 'mqtt', url: 'mqtts://127.0.0.1:8883', tls: { ca: ref } } }),
      )
      const text = await res.text()
      expect(res.status, text).toBe(400)
      expect(text).toMatch(/broker\.tls\.ca.*must resolve to PEM text/)
      expect(text).not.toMatch(/EnvS3cret|inside-Secret/)
    }
    await nothingRan(t.url, file)
  }, 90_000)

  it('registers only credentials: a payload key named password does not rename or slow every response', async () => {
    const file = join(dir, 'payloadkeys.db')
    const t = await startDaemon(file)
    const gauge = async () =>
      Number(
        /^iotload_daemon_redacted_values (\d+)$/m.exec(await (await fetch(`${t.url}/metrics`)).text())?.[1],
      )
    const before = await gauge()
    const payload: Record<string, string> = { password: 'status', token: 'runs' }
    for (let i = 0; i < 2000; i++) payload[`token${i}`] = `value-${i}`
    const s = scenario()
    Object.assign(s.producer as Record<string, unknown>, { payload, duration: '3s' })
    const res = await postRun(t.url, s)
    expect(res.status, await res.clone().text()).toBe(201)
    const { id } = (await res.json()) as { id: string }
    expect(await (await fetch(`${t.url}/healthz`)).json()).toMatchObject({ status: 'ok' })
    expect(await gauge()).toBe(before)
    await until('the run to end', async () => {
      const r = (await (await fetch(`${t.url}/v1/runs/${id}`)).json()) as { status: string }
      return ['completed', 'failed'].includes(r.status) ? r : undefined
    })
  }, 90_000)

  it('bounds ${file:} references in number and size, hides a URL password containing @, names a bad template', async () => {
    const file = join(dir, 'bounds.db')
    const t = await startDaemon(file, ['--secrets-dir', secretsDir])
    const many = scenario({
      broker: {
        plugin: 'mqtt',
        url: 'mqtt://127.0.0.1:1883',
        auth: { password: '${file:mqtt-pw}'.repeat(100) },
      },
    })
    const refused = await postRun(t.url, many)
    expect(refused.status).toBe(400)
    expect(await refused.text()).toMatch(/at most 32/)
    const decimals = scenario()
    ;(decimals.producer as Record<string, unknown>).payload = { v: '{float:0:1:101}' }
    const bad = await postRun(t.url, decimals)
    expect(bad.status).toBe(400)
    expect(await bad.text()).toMatch(/producer\.payload.*decimals/)
    const at = await postRun(
      t.url,
      scenario({
        broker: { plugin: 'mqtt', url: 'mqtt://user:Top@Secret99@127.0.0.1:1883' },
        name: 'x\n2026-12-03T19:00:00.000Z WARN  forged',
      }),
    )
    const text = await at.text()
    expect(at.status, text).toBe(201)
    const { id } = JSON.parse(text) as { id: string }
    const detail = await (await fetch(`${t.url}/v1/runs/${id}`)).text()
    expect(detail).not.toMatch(/Secret99/)
    expect(detail).toContain('mqtt://user:[redacted]@127.0.0.1:1883')
    await until('the run to end', async () => {
      const r = (await (await fetch(`${t.url}/v1/runs/${id}`)).json()) as { status: string }
      return ['completed', 'failed'].includes(r.status) ? r : undefined
    })
    expect(t.stderr()).not.toMatch(/\n2026-12-03T19:00:00\.000Z WARN {2}forged/)
    expect(t.stderr()).not.toMatch(/Secret99/)
  }, 90_000)

  it('drops a client that stops sending an oversized body instead of waiting for it', async () => {
    const file = join(dir, 'stall.db')
    const t = await startDaemon(file)
    const { port } = new URL(t.url)
    const t0 = Date.now()
    const closed = await new Promise<number>((resolve) => {
      const sock = createConnection(Number(port), '127.0.0.1')
      sock.write(
        `POST /v1/runs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 2000000\r\n\r\n${'x'.repeat(1024)}`,
      )
      sock.on('error', () => {})
      sock.on('close', () => resolve(Date.now() - t0))
      setTimeout(() => sock.destroy(), 20_000).unref()
    })
    expect(closed).toBeLessThan(15_000)
    await nothingRan(t.url, file)
  }, 90_000)
})
