import { constants } from 'node:fs'
import { open, realpath } from 'node:fs/promises'
import { isAbsolute, relative, resolve, sep } from 'node:path'
import { ConfigError } from '@iotload/sdk'
import type { TrustPolicy } from './trust-policy.ts'

/** Which operator-allowed directory a remote path must lie in. */
export type AllowedDir = 'secrets' | 'transform'

const FLAG: Record<AllowedDir, string> = { secrets: '--secrets-dir', transform: '--transform-dir' }

/** Options of `readAllowedFile`. */
export interface ReadFileOptions {
  policy: TrustPolicy
  dir: AllowedDir
  /** Scenario path named in errors, e.g. `broker.auth.password`. */
  field: string
  /** Larger files are refused. @default 64 KiB */
  maxBytes?: number
  /** A read that takes longer is abandoned (a slow or stuck file system). @default 2000 */
  timeoutMs?: number
}

function inside(dir: string, path: string): boolean {
  const rel = relative(dir, path)
  return rel === '' ? false : !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel)
}

function dirFor(policy: TrustPolicy, dir: AllowedDir): string | undefined {
  return dir === 'secrets' ? policy.secretsDir : policy.transformDir
}

/**
 * Resolves a path a scenario names. Local scenarios resolve against the working directory.
 * Remote ones must lie inside the operator's directory, symlinks resolved; a path outside is
 * refused before the file system is touched, and one that escapes by a symlink gets the same
 * answer, so the error never tells whether something exists outside.
 */
export async function resolveAllowedPath(
  path: string,
  policy: TrustPolicy,
  dir: AllowedDir,
  field: string,
): Promise<string> {
  if (policy.origin === 'local') {
    const abs = resolve(path)
    try {
      return await realpath(abs)
    } catch (err) {
      throw new ConfigError(field, `cannot read '${path}': ${errCode(err)}`, { cause: err })
    }
  }
  const base = dirFor(policy, dir)
  if (!base)
    throw new ConfigError(
      field,
      `files are refused in scenarios sent to the daemon unless it was started with ${FLAG[dir]} DIR`,
    )
  const outside = () =>
    new ConfigError(field, `'${path}' is not inside the daemon's ${FLAG[dir]}; only files there are allowed`)
  let realBase: string
  try {
    realBase = await realpath(base)
  } catch (err) {
    throw new ConfigError(field, `the daemon's ${FLAG[dir]} cannot be read: ${errCode(err)}`)
  }
  const abs = isAbsolute(path) ? resolve(path) : resolve(realBase, path)
  if (!inside(realBase, abs) && !inside(resolve(base), abs)) throw outside()
  let real: string
  try {
    real = await realpath(abs)
  } catch (err) {
    throw new ConfigError(field, `cannot read '${path}' in ${FLAG[dir]}: ${errCode(err)}`)
  }
  if (!inside(realBase, real)) throw outside()
  return real
}

function errCode(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code
  return code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (code ?? 'unreadable')
}

/**
 * Reads a small regular file a scenario names (`${file:…}`, TLS material), under the policy.
 * Opened without blocking and checked to be a regular file first, so a FIFO or a device cannot
 * freeze the daemon; read asynchronously, bounded in size and time.
 */
export async function readAllowedFile(path: string, o: ReadFileOptions): Promise<Buffer> {
  const real = await resolveAllowedPath(path, o.policy, o.dir, o.field)
  const maxBytes = o.maxBytes ?? 64 * 1024
  let handle: Awaited<ReturnType<typeof open>>
  try {
    handle = await open(real, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW)
  } catch (err) {
    throw new ConfigError(o.field, `cannot read '${path}': ${errCode(err)}`)
  }
  let timer: NodeJS.Timeout | undefined
  try {
    const read = (async () => {
      const st = await handle.stat()
      if (!st.isFile()) throw new ConfigError(o.field, `'${path}' is not a regular file`)
      if (st.size > maxBytes) throw new ConfigError(o.field, `'${path}' is larger than ${maxBytes} bytes`)
      const buf = Buffer.alloc(maxBytes + 1)
      let n = 0
      while (n <= maxBytes) {
        const { bytesRead } = await handle.read(buf, n, maxBytes + 1 - n, n)
        if (bytesRead === 0) break
        n += bytesRead
      }
      if (n > maxBytes) throw new ConfigError(o.field, `'${path}' is larger than ${maxBytes} bytes`)
      return buf.subarray(0, n)
    })()
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(new ConfigError(o.field, `reading '${path}' took longer than ${o.timeoutMs ?? 2000} ms`)),
        o.timeoutMs ?? 2000,
      )
    })
    return await Promise.race([read, timeout])
  } finally {
    if (timer) clearTimeout(timer)
    await handle.close().catch(() => {})
  }
}
