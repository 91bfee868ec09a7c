import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { createConnection } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { requireService } from '@iotload/sdk/testing'
import Database from 'better-sqlite3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mqttScenario } from './test-fixtures.ts'
import {
  type DaemonProcess,
  killStartedDaemons,
  postRun,
  spawnDaemon,
  startDaemon,
  until,
} from './testing/daemon-process.ts'

// One regression test per attack of issue #11, each against a real daemon process, each asserting
// the refusal AND that nothing ran: no marker file written, no run row stored.

const up = await requireService('Mosquitto', '127.0.0.1', 1883)
const dir = mkdtempSync(join(tmpdir(), 'iotload-security-'))
const topic = `iotload-sec-${process.pid}-${Date.now()}`
const marker = join(dir, 'pwned')
const outside = join(dir, 'outside')
const transforms = join(dir, 'transforms')
const secretsDir = join(dir, 'secrets')
for (const d of [outside, transforms, secretsDir]) mkdirSync(d)
// A module whose top-level code leaves a trace: importing it is running attacker code.
const evil = join(outside, 'evil.mjs')
writeFileSync(
  evil,
  `import { writeFileSync } from 'node:fs'\nwriteFileSync(${JSON.stringify(marker)}, 'ran')\nexport default (m) => m\n`,
)
writeFileSync(join(transforms, 'ok.mjs'), 'export default (m) => ({ ...m, ok: true })\n')
symlinkSync(evil, join(transforms, 'link.mjs'))
writeFileSync(join(outside, 'secret.txt'), 'outside-secret-value\n')
writeFileSync(join(secretsDir, 'mqtt-pw'), 'inside-Secret-7d1e\n')
symlinkSync(join(outside, 'secret.txt'), join(secretsDir, 'escape'))
execFileSync('mkfifo', [join(secretsDir, 'fifo')])

let db: string
let d: DaemonProcess

const scenario = (extra: Record<string, unknown> = {}) =>
  mqttScenario(`${topic}/s`, {
    producer: { devices: 2, rate: '2/s', duration: '1s', topic: `${topic}/s/{device}` },
    ...extra,
  })

interface ApiError {
  error: { code: string; message: string; path?: string }
}

async function refused(res: Response, status: number, path?: string): Promise<ApiError> {
  const text = await res.text()
  expect(res.status, text).toBe(status)
  const body = JSON.parse(text) as ApiError
  if (path !== undefined) expect(body.error.path, text).toBe(path)
  return body
}

/** Nothing ran: no marker, no run row (asked of the API and of the database file). */
async function nothingRan(url: string, dbFile: string): Promise<void> {
  expect(existsSync(marker), 'the attacker module ran').toBe(false)
  const list = (await (await fetch(`${url}/v1/runs`)).json()) as { runs: unknown[] }
  expect(list.runs).toEqual([])
  const sqlite = new Database(dbFile, { readonly: true })
  try {
    expect((sqlite.prepare('SELECT COUNT(*) AS n FROM runs').get() as { n: number }).n).toBe(0)
  } finally {
    sqlite.close()
  }
}

/**
 * A raw HTTP request with exactly the headers given: fetch adds a Content-Type to a string body and
 * will not send a Host header of the caller's choosing.
 */
function raw(method: string, url: string, path: string, headers: Record<string, string>, body?: string) {
  const u = new URL(url)
  return new Promise<{ status: number; text: string; headers: Record<string, unknown> }>(
    (resolve, reject) => {
      const req = request({ host: u.hostname, port: u.port, path, method, headers }, (res) => {
        let text = ''
        res.setEncoding('utf8').on('data', (c: string) => {
          text += c
        })
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text, headers: res.headers }))
      })
      req.on('error', reject)
      req.end(body)
    },
  )
}

const rawPost = (url: string, path: string, headers: Record<string, string>, body: string) =>
  raw('POST', url, path, headers, body)
const getWithHost = (url: string, path: string, host: string, extra: Record<string, string> = {}) =>
  raw('GET', url, path, { host, ...extra })

afterAll(() => {
  killStartedDaemons()
  rmSync(dir, { recursive: true, force: true })
})

describe.skipIf(!up)(
  'security: a default daemon (loopback, no token) runs only what its operator allowed',
  () => {
    beforeAll(async () => {
      db = join(dir, 'default.db')
      d = await startDaemon(db)
    }, 90_000)
    afterAll(() => d?.proc.kill('SIGKILL'))

    it('#1 refuses bridge.transform.module without --transform-dir, before importing it', async () => {
      const s = scenario({
        bridge: { from: `${topic}/s/{device}`, to: `${topic}/o/{device}`, transform: { module: evil } },
      })
      const body = await refused(await postRun(d.url, s), 400, 'bridge.transform.module')
      expect(body.error.message).toMatch(/--transform-dir/)
      await nothingRan(d.url, db)
    })

    it('#2 refuses a body without Content-Type, or as text/plain or a form (CSRF from any web page)', async () => {
      const yaml = `broker: {plugin: mqtt, url: "mqtt://127.0.0.1:1883"}\nproducer: {devices: 1, rate: 1/s, duration: 1s}\n`
      for (const type of [undefined, 'text/plain', 'application/x-www-form-urlencoded', 'text/yaml']) {
        const headers: Record<string, string> = { host: new URL(d.url).host }
        if (type) headers['content-type'] = type
        const r = await rawPost(d.url, '/v1/runs', headers, yaml)
        expect(r.status, `${type}: ${r.text}`).toBe(415)
      }
      await nothingRan(d.url, db)
    })

    it('#3 answers 421 to a foreign Host (DNS rebinding) and 403 to a foreign Origin; /healthz stays open', async () => {
      for (const host of ['attacker.example', 'attacker.example:7878', '127.0.0.1.attacker.example']) {
        const r = await getWithHost(d.url, '/v1/runs', host)
        expect(r.status, r.text).toBe(421)
        expect(r.text).toMatch(/HOST_NOT_ALLOWED/)
      }
      const cross = await postRun(d.url, scenario(), { origin: 'http://attacker.example' })
      expect((await refused(cross, 403)).error.code).toBe('ORIGIN_NOT_ALLOWED')
      await refused(await postRun(d.url, scenario(), { origin: 'null' }), 403)
      expect((await getWithHost(d.url, '/healthz', '10.1.2.3:7878')).status).toBe(200)
      expect((await getWithHost(d.url, '/v1/runs', 'localhost')).status).toBe(200)
      expect((await getWithHost(d.url, '/v1/runs', '[::1]:7878')).status).toBe(200)
      const res = await getWithHost(d.url, '/v1/runs', 'localhost', { origin: 'http://attacker.example' })
      expect(res.status).toBe(403)
      expect(Object.keys(res.headers).filter((h) => h.startsWith('access-control-'))).toEqual([])
      // The daemon's own origin (a page it serves itself) is same-origin, not cross-site.
      const host = new URL(d.url).host
      expect((await getWithHost(d.url, '/v1/runs', host, { origin: `http://${host}` })).status).toBe(200)
      await nothingRan(d.url, db)
    })

    it('#4 refuses ${file:} and ${env:} outside credential fields, outside --secrets-dir, and unlisted variables', async () => {
      const inPayload = scenario()
      ;(inPayload.producer as Record<string, unknown>).payload = {
        stolen: `\${file:${join(outside, 'secret.txt')}}`,
      }
      await refused(await postRun(d.url, inPayload), 400, 'producer.payload.stolen')
      const envInPayload = scenario()
      ;(envInPayload.producer as Record<string, unknown>).payload = { v: '${env:HOME}' }
      await refused(await postRun(d.url, envInPayload), 400, 'producer.payload.v')
      // In a credential field, a file is still refused without --secrets-dir, and the answer is the
      // same whether the file exists or not.
      const withFile = (p: string) =>
        scenario({
          broker: { plugin: 'mqtt', url: 'mqtt://127.0.0.1:1883', auth: { password: `\${file:${p}}` } },
        })
      const a = await refused(await postRun(d.url, withFile('/etc/passwd')), 400, 'broker.auth.password')
      const b = await refused(await postRun(d.url, withFile('/no/such/file')), 400, 'broker.auth.password')
      expect(a.error.message.replace('/etc/passwd', 'X')).toBe(b.error.message.replace('/no/such/file', 'X'))
      const env = scenario({
        broker: { plugin: 'mqtt', url: 'mqtt://127.0.0.1:1883', auth: { password: '${env:PATH}' } },
      })
      expect((await refused(await postRun(d.url, env), 400, 'broker.auth.password')).error.message).toMatch(
        /IOTLOAD_SECRET_/,
      )
      const tls = scenario({
        broker: { plugin: 'mqtt', url: 'mqtts://127.0.0.1:8883', tls: { ca: '/etc/passwd' } },
      })
      await refused(await postRun(d.url, tls), 400, 'broker.tls.ca')
      await nothingRan(d.url, db)
    })

    it('#5 refused requests leave no secrets behind: /healthz keeps its shape, scrubbing costs what it did', async () => {
      const gauge = async () =>
        Number(
          /^iotload_daemon_redacted_values (\d+)$/m.exec(await (await fetch(`${d.url}/metrics`)).text())?.[1],
        )
      const fresh = await gauge()
      const poison = scenario({
        broker: { plugin: 'mqtt', url: 'mqtt://127.0.0.1:1883', auth: { token: 'status' } },
      })
      ;(poison.producer as Record<string, unknown>).devices = -1
      await refused(await postRun(d.url, poison), 400)
      expect(await (await fetch(`${d.url}/healthz`)).json()).toMatchObject({ status: 'ok' })
      const keys: Record<string, string> = {}
      for (let i = 0; i < 36_000; i++) keys[`password${i}`] = `v${i}xy`
      const big = JSON.stringify({
        ...scenario(),
        broker: { plugin: 'mqtt', url: 'mqtt://127.0.0.1:1883', ...keys },
      })
      expect(big.length).toBeGreaterThan(800_000)
      for (let i = 0; i < 100; i++) {
        const res = await fetch(`${d.url}/v1/runs`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: big,
        })
        expect(res.status).toBe(400)
        await res.arrayBuffer()
      }
      // Counts of work, not wall time: every response is scrubbed of exactly as many values as before.
      expect(await gauge()).toBe(fresh)
      expect(await (await fetch(`${d.url}/healthz`)).json()).toMatchObject({ status: 'ok' })
      await nothingRan(d.url, db)
    }, 120_000)

    it('#7 refuses rates, sizes, counts and durations beyond the limits, naming the field', async () => {
      const cases: Array<[Record<string, unknown>, string]> = [
        [{ rate: '1000000000/s' }, 'producer.rate'],
        [{ rate: 1e300 }, 'producer.rate'],
        [{ rate: undefined, totalRate: '6000000/s' }, 'producer.totalRate'],
        [{ duration: '876000h' }, 'producer.duration'],
        [{ warmup: '876000h' }, 'producer.duration'],
        [{ connections: 1e12 }, 'producer.connections'],
        [{ devices: 2_000_000 }, 'producer.devices'],
        [{ envelope: 'binary', payloadSize: 16 * 1024 * 1024 }, 'producer.payloadSize'],
      ]
      for (const [producer, path] of cases) {
        const s = scenario()
        Object.assign(s.producer as Record<string, unknown>, producer)
        await refused(await postRun(d.url, s), 400, path)
      }
      await refused(await postRun(d.url, scenario({ run: { drain: '876000h' } })), 400, 'producer.duration')
      await refused(await postRun(d.url, scenario({ name: 'n'.repeat(900_000) })), 400, 'name')
      await nothingRan(d.url, db)
      expect(d.stderr()).not.toMatch(/n{300}/)
    })

    it('#9 refuses tls on a plain-text URL in every plugin that has both', async () => {
      const cases: Array<Record<string, unknown>> = [
        { plugin: 'mqtt', url: 'mqtt://127.0.0.1:1883', tls: { verify: true } },
        { plugin: 'pulsar', url: 'ws://127.0.0.1:8080', tls: { verify: true } },
        { plugin: 'nats', url: 'nats://127.0.0.1:4222', tls: { verify: true } },
        { plugin: 'kafka', url: 'kafka://127.0.0.1:9092', tls: { verify: true } },
        { plugin: 'amqp', url: 'amqp://127.0.0.1:5672', tls: { verify: true } },
      ]
      for (const broker of cases) {
        const body = await refused(await postRun(d.url, scenario({ broker })), 400, 'broker.tls')
        expect(body.error.message).toMatch(/not encrypted|use amqps/)
      }
      await nothingRan(d.url, db)
    })

    it('#10 answers a second oversized body on a kept-alive connection with 413 and Connection: close, never a reset', async () => {
      const { port } = new URL(d.url)
      const body = 'x'.repeat(2 * 1024 * 1024)
      const head = (extra: string) =>
        `POST /v1/runs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n${extra}\r\n`
      for (const chunked of [false, true]) {
        const result = await new Promise<{ text: string; error?: string }>((resolve) => {
          const s = createConnection(Number(port), '127.0.0.1')
          let text = ''
          let sent = 0
          const send = () => {
            sent++
            if (chunked) {
              s.write(head('Transfer-Encoding: chunked\r\n'))
              for (let k = 0; k < body.length; k += 65536) s.write(`10000\r\n${body.slice(k, k + 65536)}\r\n`)
              s.write('0\r\n\r\n')
            } else s.write(head(`Content-Length: ${body.length}\r\n`) + body)
          }
          // First a small valid-JSON request on the same connection, so the big one is the second.
          s.write(head('Content-Length: 2\r\n') + '{}')
          s.on('data', (chunk) => {
            text += chunk
            if (sent === 0 && / 400 /.test(text)) send()
          })
          s.on('error', (e: NodeJS.ErrnoException) => resolve({ text, error: e.code ?? String(e) }))
          s.on('close', () => resolve({ text }))
          setTimeout(() => s.destroy(), 10_000).unref()
        })
        expect(result.error, `chunked=${chunked}`).toBeUndefined()
        expect(result.text).toMatch(/HTTP\/1\.1 413[\s\S]*connection: close/i)
        expect(result.text).toMatch(/BODY_TOO_LARGE/)
      }
      await nothingRan(d.url, db)
    })
  },
)

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
