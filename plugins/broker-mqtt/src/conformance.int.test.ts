import { testBrokerPlugin } from '@iotload/sdk/conformance'
import { makeTestCerts, requireBinary, requireService, startMosquitto } from '@iotload/sdk/testing'
import { afterAll, describe } from 'vitest'
import { mqttPlugin } from './plugin.ts'

const up = await requireService('Mosquitto', '127.0.0.1', 1883)
// A private Mosquitto with a TLS listener, client certificates and a password file hosts the auth and TLS cases.
const certs = up && requireBinary('mosquitto') ? makeTestCerts({ clients: { client: 'ca' } }) : undefined
const username = 'device-1'
const password = `pw-${Math.random().toString(36).slice(2)}`
const secure = certs
  ? await startMosquitto({ tls: { certs, requireCertificate: true }, users: { [username]: password } })
  : undefined
afterAll(async () => {
  await secure?.stop()
  certs?.cleanup()
})

const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`

describe.skipIf(!up)('mqtt against Mosquitto', () => {
  const tlsConfig = (ca: string) => ({
    url: secure!.url,
    tls: { ca, cert: certs!.clients.client!.certFile, key: certs!.clients.client!.keyFile },
  })
  testBrokerPlugin(mqttPlugin, {
    name: 'mqtt',
    config: { url: 'mqtt://127.0.0.1:1883' },
    topic: (s) => `conf/${run}/${s}`,
    wildcard: { filter: `conf/${run}/wild/+`, topics: [`conf/${run}/wild/a`, `conf/${run}/wild/b`] },
    proxy: {
      host: '127.0.0.1',
      port: 1883,
      configFor: (port) => ({ url: `mqtt://127.0.0.1:${port}`, reconnectPeriod: '100ms' }),
    },
    ...(secure &&
      certs && {
        auth: {
          config: tlsConfig(certs.caFile),
          invalid: { username, password: `wrong-${password}` },
          valid: { username, password },
        },
        tls: {
          config: tlsConfig(certs.caFile),
          credentials: { username, password },
          unknownCaConfig: tlsConfig(certs.otherCaFile),
        },
      }),
  })
})
