import { testBrokerPlugin } from '@iotload/sdk/conformance'
import { requireService } from '@iotload/sdk/testing'
import { connect } from '@nats-io/transport-node'
import { jetstreamManager } from '@nats-io/jetstream'
import { afterAll, describe } from 'vitest'
import plugin from './plugin.ts'
import { startPrivateServers } from './testing/private-servers.ts'

const up = await requireService('NATS', '127.0.0.1', 4222)
const servers = up ? await startPrivateServers() : undefined
const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`
const jsStream = `CONF_${run}`

afterAll(async () => {
  await servers?.stop()
  if (!up) return
  // The JetStream suite created a stream on the shared server; leave nothing behind.
  const nc = await connect({ servers: '127.0.0.1:4222' })
  const jsm = await jetstreamManager(nc)
  await jsm.streams.delete(jsStream).catch(() => undefined)
  await nc.close()
})

for (const mode of ['core', 'jetstream'] as const) {
  const prefix = `${mode === 'core' ? 'c' : 'j'}${run}`
  const modeConfig = mode === 'core' ? { mode } : { mode, jetstream: { stream: jsStream } }
  const fast = { reconnect: { waitMs: 100 } }
  describe.skipIf(!up)(`nats ${mode} against nats-server`, () => {
    testBrokerPlugin(plugin, {
      name: `nats-${mode}`,
      config: { url: 'nats://127.0.0.1:4222', ...modeConfig },
      topic: (s) => `${prefix}.${s}`,
      wildcard: { filter: `${prefix}.wild.*`, topics: [`${prefix}.wild.a`, `${prefix}.wild.b`] },
      proxy: {
        host: '127.0.0.1',
        port: 4222,
        configFor: (port) => ({ url: `nats://127.0.0.1:${port}`, ...modeConfig, ...fast }),
      },
      ...(servers && {
        auth: {
          config: { url: `nats://127.0.0.1:${servers.userPass.port}`, ...modeConfig },
          invalid: { username: servers.user, password: `wrong-${servers.password}` },
          valid: { username: servers.user, password: servers.password },
        },
        tls: {
          config: {
            url: `tls://127.0.0.1:${servers.tls.port}`,
            tls: { ca: servers.certs.caFile },
            ...modeConfig,
          },
          unknownCaConfig: {
            url: `tls://127.0.0.1:${servers.tls.port}`,
            tls: { ca: servers.certs.otherCaFile },
            ...modeConfig,
          },
        },
      }),
    })
  })
}
