import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConfigError } from '@iotload/sdk'
import { describe, expect, it } from 'vitest'
import { resolveReferences } from './references.ts'
import { secrets } from './secrets.ts'
import { localPolicy, remotePolicy } from './trust-policy.ts'

const dir = mkdtempSync(join(tmpdir(), 'iotload-refs-'))
const secretsDir = join(dir, 'secrets')
mkdirSync(secretsDir)
writeFileSync(join(secretsDir, 'pw'), 'file-pw-1\n')
writeFileSync(join(dir, 'outside'), 'outside-pw\n')

async function refusal(p: Promise<unknown>): Promise<ConfigError> {
  try {
    await p
  } catch (err) {
    if (err instanceof ConfigError) return err
    throw err
  }
  throw new Error('expected a ConfigError')
}

describe('resolveReferences', () => {
  it('lets the CLI resolve references anywhere and collects every resolved value', async () => {
    const r = await resolveReferences(
      { producer: { payload: { a: '${env:X}', list: ['x-${file:' + join(dir, 'outside') + '}'] } } },
      { policy: localPolicy(), env: { X: 'env-value' } },
    )
    expect(r.value).toEqual({ producer: { payload: { a: 'env-value', list: ['x-outside-pw'] } } })
    expect(r.secrets.sort()).toEqual(['env-value', 'outside-pw'])
  })

  it('refuses references outside credential fields in remote scenarios, naming the field', async () => {
    const err = await refusal(
      resolveReferences(
        { producer: { payload: { list: ['${env:X}'] } } },
        { policy: remotePolicy(), env: { X: 'v' } },
      ),
    )
    expect(err.path).toBe('producer.payload.list[0]')
  })

  it('resolves remote references in auth, tls and plugin-marked secret fields only', async () => {
    const policy = remotePolicy({ secretsDir, secretEnv: ['LISTED'] })
    const r = await resolveReferences(
      {
        broker: {
          auth: { password: '${file:pw}', token: '${env:IOTLOAD_SECRET_T}' },
          tls: { passphrase: '${env:LISTED}' },
          curve: { serverSecretKey: '${env:LISTED}' },
        },
      },
      {
        policy,
        env: { LISTED: 'listed', IOTLOAD_SECRET_T: 'tok-1' },
        secretPaths: [['broker', 'curve', 'serverSecretKey']],
      },
    )
    expect(r.value).toEqual({
      broker: {
        auth: { password: 'file-pw-1', token: 'tok-1' },
        tls: { passphrase: 'listed' },
        curve: { serverSecretKey: 'listed' },
      },
    })
    const err = await refusal(
      resolveReferences(
        { broker: { curve: { serverPublicKey: '${env:LISTED}' } } },
        { policy, env: { LISTED: 'x' } },
      ),
    )
    expect(err.path).toBe('broker.curve.serverPublicKey')
  })

  it('refuses unlisted variables and files outside --secrets-dir in remote scenarios', async () => {
    const policy = remotePolicy({ secretsDir })
    const env = await refusal(
      resolveReferences(
        { broker: { auth: { password: '${env:HOME}' } } },
        { policy, env: { HOME: '/root' } },
      ),
    )
    expect(env.message).toMatch(/--secret-env.*IOTLOAD_SECRET_/)
    const file = await refusal(
      resolveReferences(
        { broker: { auth: { password: `\${file:${join(dir, 'outside')}}` } } },
        { policy, env: {} },
      ),
    )
    expect(file.message).toMatch(/not inside the daemon's --secrets-dir/)
  })

  it('registers nothing anywhere: the run does, once the scenario validated', async () => {
    const before = secrets.size
    await resolveReferences(
      { broker: { auth: { password: 'literal-pw-9' } } },
      { policy: localPolicy(), env: {} },
    )
    expect(secrets.size).toBe(before)
  })
})
