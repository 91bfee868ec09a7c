import { testBrokerPlugin } from '@iotload/sdk/conformance'
import { requireService } from '@iotload/sdk/testing'
import { afterAll, describe } from 'vitest'
import { mqttPlugin } from './plugin.ts'
import { startTlsMosquitto } from './testing/tls-mosquitto.ts'

const up = await requireService('Mosquitto', '127.0.0.1', 1883)
// A private Mosquitto with a TLS listener, client certificates and a password file hosts the auth and TLS cases.
const secure = up ? await startTlsMosquitto() : undefined
afterAll(async () => {
  await secure?.stop()
})

const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`

describe.skipIf(!up)('mqtt against Mosquitto', () => {
  const tlsConfig = (ca: string) => ({
    url: `mqtts://127.0.0.1:${secure!.port}`,
    tls: { ca, cert: secure!.clientCertPath, key: secure!.clientKeyPath },
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
    ...(secure && {
      auth: {
        config: tlsConfig(secure.caPath),
        invalid: { username: secure.username, password: `wrong-${secure.password}` },
        valid: { username: secure.username, password: secure.password },
      },
      tls: {
        config: tlsConfig(secure.caPath),
        credentials: { username: secure.username, password: secure.password },
        unknownCaConfig: tlsConfig(secure.rogueCaPath),
      },
    }),
  })
})
