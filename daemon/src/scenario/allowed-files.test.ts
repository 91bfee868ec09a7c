import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConfigError } from '@iotload/sdk'
import { describe, expect, it } from 'vitest'
import { readAllowedFile } from './allowed-files.ts'
import { localPolicy, remotePolicy } from './trust-policy.ts'

const dir = mkdtempSync(join(tmpdir(), 'iotload-files-'))
const allowed = join(dir, 'allowed')
mkdirSync(allowed)
writeFileSync(join(allowed, 'ok'), 'fine')
writeFileSync(join(allowed, 'big'), 'x'.repeat(70_000))
writeFileSync(join(dir, 'secret'), 'outside')
symlinkSync(join(dir, 'secret'), join(allowed, 'escape'))
execFileSync('mkfifo', [join(allowed, 'fifo')])
const policy = remotePolicy({ secretsDir: allowed })
const read = (path: string, p = policy) => readAllowedFile(path, { policy: p, dir: 'secrets', field: 'f' })

async function message(p: Promise<unknown>): Promise<string> {
  try {
    await p
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError)
    return (err as Error).message
  }
  throw new Error('expected a refusal')
}

describe('readAllowedFile', () => {
  it('reads regular files inside the allowed directory, by relative or absolute path', async () => {
    expect((await read('ok')).toString()).toBe('fine')
    expect((await read(join(allowed, 'ok'))).toString()).toBe('fine')
  })

  it('answers the same for an existing and a missing file outside, and for a symlink that escapes', async () => {
    const a = await message(read(join(dir, 'secret')))
    const b = await message(read(join(dir, 'missing')))
    expect(a.replace('secret', 'X')).toBe(b.replace('missing', 'X'))
    expect(await message(read('escape'))).toMatch(/not inside/)
    expect(await message(read('../secret'))).toMatch(/not inside/)
  })

  it('refuses a FIFO at once instead of blocking, and files over the size limit', async () => {
    const t0 = performance.now()
    expect(await message(read('fifo'))).toMatch(/not a regular file/)
    expect(performance.now() - t0).toBeLessThan(2000)
    expect(await message(read('big'))).toMatch(/larger than 65536 bytes/)
  })

  it('refuses every file when the operator opened no directory; the CLI reads anywhere', async () => {
    expect(await message(read('ok', remotePolicy()))).toMatch(/unless it was started with --secrets-dir/)
    expect((await read(join(dir, 'secret'), localPolicy())).toString()).toBe('outside')
  })
})
