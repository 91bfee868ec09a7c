import { randomUUID } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  makeTestCerts,
  type PrivateMosquitto,
  requireBinary,
  startMosquitto,
  type TestCerts,
} from '@iotload/sdk/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createLogger } from '../log/logger.ts'
import { resolveScenario } from '../scenario/load-scenario.ts'
import { startRun } from './run.ts'

// Per-device X.509 identities against a private Mosquitto that requires a client certificate and
// takes its CN as the username. Certificates made here with openssl: dev-0 … dev-29 by the CA,
// dev-30 by another CA (refused in the handshake); dev-31's files do not exist.
const hasTools = requireBinary('mosquitto', 'apt-get install mosquitto') && requireBinary('openssl')
const quiet = createLogger({ level: 'error' })
let certs: TestCerts
let broker: PrivateMosquitto

beforeAll(async () => {
  if (!hasTools) return
  const clients: Record<string, 'ca' | 'other-ca'> = { 'dev-30': 'other-ca' }
  for (let d = 0; d < 30; d++) clients[`dev-${d}`] = 'ca'
  certs = makeTestCerts({ clients, prefix: 'iotload-ids-' })
  // Under acl/ a device may publish only to its own CN: one using another's certificate is refused.
  const acl = join(certs.dir, 'acl')
  writeFileSync(acl, 'pattern write acl/%u\npattern read acl/#\npattern readwrite free/#\n')
  broker = await startMosquitto({
    tls: { certs, requireCertificate: true },
    config: ['use_identity_as_username true', `acl_file ${acl}`],
  })
}, 120_000)
afterAll(async () => {
  await broker?.stop()
  certs?.cleanup()
})

function scenario(
  producer: Record<string, unknown>,
  tls: Record<string, unknown> = {},
  consumer: Record<string, unknown> = {},
) {
  return {
    name: 'per-device certificates',
    broker: {
      plugin: 'mqtt',
      url: broker.url,
      version: '5',
      tls: {
        ca: certs.caFile,
        cert: join(certs.dir, 'dev-{device}.pem'),
        key: join(certs.dir, 'dev-{device}.key'),
        ...tls,
      },
    },
    producer: {
      rate: '2/s',
      duration: '2s',
      qos: 1,
      topic: `free/${randomUUID().slice(0, 8)}/{device}`,
      ...producer,
    },
    consumer,
    run: { drain: '3s' },
  }
}

describe.skipIf(!hasTools)('per-device client certificates through Mosquitto (require_certificate)', () => {
  // workers: 2 — the certificate templates and the file reader reach every worker thread.
  it.each([1, 2])(
    'each device connects with its own certificate; a foreign CA and a missing file fail per device, within maxConnectFailures (workers: %s)',
    async (workers) => {
      const resolved = await resolveScenario(
        {
          ...scenario(
            { devices: 32, maxConnectFailures: 2, topic: 'acl/dev-{device}' },
            {},
            { topic: 'acl/+' },
          ),
          run: { drain: '3s', workers },
        },
        { env: {} },
      )
      const summary = await startRun(resolved, { logger: quiet }).result
      expect(summary.workers?.producers ?? 1).toBe(workers)
      expect(summary.error).toBeUndefined()
      expect(summary.run.status).toBe('completed')
      expect(summary.connections).toMatchObject({
        devices: 32,
        failed: 2,
        tolerated: 2,
        failuresByCause: { tls: 2 },
      })
      const failed = summary.connections?.failedDevices ?? []
      expect(failed.map((f) => f.device).sort((a, b) => a - b)).toEqual([30, 31])
      expect(failed.find((f) => f.device === 31)?.error).toMatch(
        /device 31: client certificate: .*no such file/,
      )
      // 30 devices × 2/s × 2 s, every one delivered.
      expect(summary.streams.e2e).toMatchObject({ sent: 120, received: 120, lost: 0 })
      expect(summary.devices?.tracked).toBe(30)
    },
    60_000,
  )

  it('more certificate failures than allowed fail the run, counted by cause', async () => {
    const resolved = await resolveScenario(scenario({ devices: 32, maxConnectFailures: 1 }), { env: {} })
    const summary = await startRun(resolved, { logger: quiet }).result
    expect(summary.run.status).toBe('failed')
    expect(summary.connections).toMatchObject({ failed: 2, failuresByCause: { tls: 2 } })
  }, 60_000)

  // workers: 2 — each worker takes its devices' rows (device 10, the rogue, is in the second).
  it.each([1, 2])(
    'identities from a CSV: each row its device’s client id and certificate (paths relative to the file), workers: %s',
    async (workers) => {
      const rows = ['id,clientId,cert,key']
      // Devices 0-9 take the certificates of dev-20 … dev-29; device 10 the foreign one.
      for (let k = 0; k < 10; k++)
        rows.push(`meter-${k},meter-${k}-${randomUUID().slice(0, 4)},dev-${20 + k}.pem,dev-${20 + k}.key`)
      rows.push('rogue,rogue-1,dev-30.pem,dev-30.key')
      const file = join(certs.dir, 'devices.csv')
      writeFileSync(file, `${rows.join('\n')}\n`)
      const resolved = await resolveScenario(
        // The consumer logs in with dev-0's certificate; the devices with their rows'.
        {
          ...scenario(
            { devices: 11, identities: file, maxConnectFailures: '10%' },
            { cert: certs.clients['dev-0']!.certFile, key: certs.clients['dev-0']!.keyFile },
          ),
          run: { drain: '3s', workers },
        },
        { env: {} },
      )
      const summary = await startRun(resolved, { logger: quiet }).result
      expect(summary.error).toBeUndefined()
      expect(summary.workers?.producers ?? 1).toBe(workers)
      expect(summary.connections).toMatchObject({ failed: 1, tolerated: 1, failuresByCause: { tls: 1 } })
      expect(summary.connections?.failedDevices?.[0]).toMatchObject({ device: 10 })
      expect(summary.streams.e2e).toMatchObject({ sent: 40, received: 40, lost: 0 })
    },
    60_000,
  )
})
