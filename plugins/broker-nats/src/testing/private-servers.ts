import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  makeTestCerts,
  natsServerBin,
  type PrivateServer,
  requireBinary,
  startNatsServer,
  type TestCerts,
} from '@iotload/sdk/testing'

/** Private nats-servers (JetStream on) for the auth and TLS cases the shared :4222 server cannot host. */
export interface PrivateServers {
  userPass: PrivateServer
  token: PrivateServer
  tls: PrivateServer
  certs: TestCerts
  user: string
  password: string
  tokenValue: string
  stop(): Promise<void>
}

/**
 * Starts the private servers, or returns undefined (with a loud line; an error under CI=true) when the
 * nats-server binary is missing.
 */
export async function startPrivateServers(): Promise<PrivateServers | undefined> {
  if (!requireBinary(natsServerBin(), 'set NATS_SERVER_BIN; auth and TLS tests need it')) return undefined
  const store = mkdtempSync(join(tmpdir(), 'iotload-nats-js-'))
  const js = (name: string) => ['-js', '-sd', join(store, name)]
  const certs = makeTestCerts()
  const suffix = Math.random().toString(36).slice(2, 10)
  const user = 'conf-user'
  const password = `conf-pw-${suffix}`
  const tokenValue = `conf-token-${suffix}`
  const started: PrivateServer[] = []
  const stop = async () => {
    await Promise.all(started.map((s) => s.stop()))
    certs.cleanup()
    rmSync(store, { recursive: true, force: true })
  }
  try {
    const userPass = await startNatsServer(['--user', user, '--pass', password, ...js('userpass')])
    started.push(userPass)
    const token = await startNatsServer(['--auth', tokenValue, ...js('token')])
    started.push(token)
    const tls = await startNatsServer(
      ['--tls', '--tlscert', certs.serverCertFile, '--tlskey', certs.serverKeyFile].concat(js('tls')),
    )
    started.push(tls)
    return { userPass, token, tls, certs, user, password, tokenValue, stop }
  } catch (err) {
    await stop()
    throw err
  }
}
