import { requireService } from '@iotload/sdk/testing'
import { existsSync } from 'node:fs'
import { createConnection } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSecurityFixture, getWithHost, rawPost, refused } from './testing/security-fixture.ts'
import { type DaemonProcess, killStartedDaemons, postRun, startDaemon } from './testing/daemon-process.ts'

// Regression tests of issue #11's attacks against a real daemon (shared fixture: testing/security-fixture.ts).

const up = await requireService('Mosquitto', '127.0.0.1', 1883)
const { dir, topic, outside, evil, scenario, nothingRan, remove } = createSecurityFixture()

let db: string
let d: DaemonProcess

afterAll(() => {
  killStartedDaemons()
  remove()
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
    }, 300_000) // 100 bodies of ~900 KB each: generous for a loaded CI machine

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
      // REST runs shard now: a request may not start more threads than the operator allows.
      await refused(await postRun(d.url, scenario({ run: { workers: 200 } })), 400, 'run.workers')
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

    it('#11 refuses setup, faults and teardown commands without --allow-exec: nothing runs, nothing is stored', async () => {
      const ran = join(dir, 'exec-ran')
      const exec = `touch ${ran}`
      for (const [key, steps] of [
        ['setup', [{ exec }]],
        ['faults', [{ at: '0s', exec }]],
        ['teardown', [{ exec }]],
      ] as const) {
        const body = await refused(await postRun(d.url, scenario({ [key]: steps })), 400, `${key}[0].exec`)
        expect(body.error.message).toMatch(/--allow-exec/)
      }
      expect(existsSync(ran), 'a command from the request ran').toBe(false)
      await nothingRan(d.url, db)
    })
  },
)
