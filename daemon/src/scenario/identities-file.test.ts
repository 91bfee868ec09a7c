import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { resolveScenario } from './load-scenario.ts'
import { parseIdentities, splitCsvLine } from './identities-file.ts'
import { remotePolicy } from './trust-policy.ts'

const dir = mkdtempSync(join(tmpdir(), 'iotload-identities-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function csv(name: string, text: string): string {
  const file = join(dir, name)
  writeFileSync(file, text)
  return file
}

const broker = { plugin: 'memory', bus: 'identities-test' }
const resolve = (
  producer: Record<string, unknown>,
  options: Parameters<typeof resolveScenario>[1] = { env: {} },
) => resolveScenario({ broker, producer: { rate: '1/s', duration: '1s', ...producer } }, options)

describe('producer.identities', () => {
  it('reads one identity per device, resolving references in cells and cert paths against the file', async () => {
    const file = csv(
      'ok.csv',
      'id,username,password,clientId,cert\nm-0,u0,${env:PW0},c0,certs/0.pem\nm-1,u1,plain,c1,\n',
    )
    const r = await resolve({ devices: 2, identities: file }, { env: { PW0: 'secret-0' } })
    expect(r.identities?.rows).toEqual([
      { id: 'm-0', username: 'u0', password: 'secret-0', clientId: 'c0', cert: join(dir, 'certs/0.pem') },
      { id: 'm-1', username: 'u1', password: 'plain', clientId: 'c1' },
    ])
    // Passwords are the run's secrets (scrubbed from its logs); the stored scenario keeps the path.
    expect(r.secrets).toEqual(expect.arrayContaining(['secret-0', 'plain']))
    expect(JSON.stringify(r.redacted)).not.toContain('secret-0')
  })

  it.each([
    [
      'a row with a missing cell',
      'id,username,password\nm-0,u0\n',
      2,
      /row 1 has 2 cells, the header 3 columns/,
    ],
    ['an unknown column', 'id,user\nm-0,u0\n', 1, /unknown column 'user'/],
    ['no id column', 'username,password\nu,p\n', 1, /needs an id column/],
    ['a repeated id', 'id\na\na\n', 2, /row 2 repeats the id 'a'/],
    ['fewer rows than devices', 'id\na\nb\n', 3, /2 identities for 3 devices; add rows, or set wrap: true/],
  ])('refuses %s, naming the field', async (_what, text, devices, message) => {
    const file = csv(`bad-${devices}-${Math.random()}.csv`, text)
    const err = await resolve({ devices, identities: file }).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'CONFIG_INVALID', path: 'producer.identities' })
    expect((err as Error).message).toMatch(message)
  })

  it('wrap: true reuses the rows in turn', async () => {
    const file = csv('wrap.csv', 'id,username\na,ua\nb,ub\n')
    const r = await resolve({ devices: 5, identities: { file, wrap: true } })
    expect(r.identities).toMatchObject({ wrap: true, rows: [{ id: 'a' }, { id: 'b' }] })
  })

  it('a group names its own file; errors name the group', async () => {
    const file = csv('short.csv', 'id\na\n')
    const err = await resolveScenario(
      {
        broker,
        producers: [
          { name: 'a', devices: 1, rate: '1/s', duration: '1s' },
          { name: 'b', devices: 2, rate: '1/s', duration: '1s', identities: file },
        ],
      },
      { env: {} },
    ).catch((e: unknown) => e)
    expect(err).toMatchObject({ path: 'producers[1].identities' })
  })

  it('over REST: only from the daemon’s --secrets-dir, and env references only where allowed', async () => {
    const file = csv('remote.csv', 'id,password\na,${env:HOME}\n')
    const outside = await resolve(
      { devices: 1, identities: file },
      { env: {}, policy: remotePolicy() },
    ).catch((e: unknown) => e)
    expect((outside as Error).message).toMatch(/producer\.identities: files are refused .* --secrets-dir/)
    const inside = await resolve(
      { devices: 1, identities: 'remote.csv' },
      { env: { HOME: '/root' }, policy: remotePolicy({ secretsDir: dir }) },
    ).catch((e: unknown) => e)
    expect((inside as Error).message).toMatch(
      /\$\{env:HOME\} is not readable by scenarios sent to the daemon/,
    )
  })

  it('templated per-device certificates need both halves', async () => {
    const err = await resolveScenario(
      {
        broker: { plugin: 'mqtt', url: 'mqtts://127.0.0.1:8883', tls: { cert: 'certs/{device}.pem' } },
        producer: { devices: 1, rate: '1/s', duration: '1s' },
      },
      { env: {} },
    ).catch((e: unknown) => e)
    expect(err).toMatchObject({ path: 'broker.tls.key' })
  })
})

describe('CSV lines', () => {
  it('splits quoted cells with commas and doubled quotes', () => {
    expect(splitCsvLine('a, "b,c" ,"say ""hi""",')).toEqual(['a', 'b,c', 'say "hi"', ''])
    expect(parseIdentities('# devices\nid,clientId\r\nx,"c,1"\r\n', 'f')).toEqual([
      { id: 'x', clientId: 'c,1' },
    ])
  })
})
