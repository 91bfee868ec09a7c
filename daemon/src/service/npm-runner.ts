import { spawn } from 'node:child_process'
import { secrets } from '../log/secret-registry.ts'
import { ServiceError } from './errors.ts'

/** Outcome of one npm invocation. */
export interface NpmResult {
  code: number | null
  stdout: string
  stderr: string
  timedOut: boolean
}

/** Runs npm with the given arguments (no shell). Injectable so tests need not install for real. */
export type NpmRunner = (args: string[], options: { cwd: string; timeoutMs: number }) => Promise<NpmResult>

const UNREACHABLE =
  /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNRESET|ENETUNREACH|EHOSTUNREACH|network|socket hang up/i
const NOT_FOUND = /E404|404 Not Found|is not in this registry|No matching version|ETARGET/i

/** Spawns the real npm. */
export const spawnNpm: NpmRunner = (args, { cwd, timeoutMs }) =>
  new Promise((resolve) => {
    const child = spawn('npm', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: process.env })
    let stdout = ''
    let stderr = ''
    let timedOut = false
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      if (stdout.length < 64_000) stdout += d
    })
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < 64_000) stderr += d
    })
    const timer = setTimeout(() => {
      timedOut = true
      child.kill('SIGTERM')
    }, timeoutMs)
    child.on('error', (err) => {
      clearTimeout(timer)
      resolve({ code: null, stdout, stderr: `${stderr}${err.message}`, timedOut })
    })
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr, timedOut })
    })
  })

/** npm's last meaningful lines, secrets scrubbed, for an error message. */
export function lastLines(text: string, n: number): string {
  return secrets
    .scrub(
      text
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l && !/^npm (error|ERR!) (A complete log|\s*$)/.test(l))
        .slice(-n)
        .join(' | '),
    )
    .slice(0, 600)
}

/**
 * Throws the ServiceError that says plainly why an npm command failed: timeout, package unknown,
 * registry unreachable, or npm's own error. Returns quietly on success.
 */
export function checkNpm(res: NpmResult, what: string, registry: string): void {
  if (res.timedOut)
    throw new ServiceError(
      'upstream-timeout',
      'NPM_TIMEOUT',
      `npm ${what} did not finish in time; nothing is guaranteed installed`,
    )
  if (res.code === 0) return
  const detail = lastLines(res.stderr || res.stdout, 3)
  if (NOT_FOUND.test(res.stderr))
    throw new ServiceError('not-found', 'PACKAGE_NOT_FOUND', `${what}: not found on ${registry}: ${detail}`)
  if (UNREACHABLE.test(res.stderr))
    throw new ServiceError(
      'upstream',
      'REGISTRY_UNREACHABLE',
      `npm could not reach ${registry}, so ${what} did not happen: ${detail}`,
    )
  throw new ServiceError('upstream', 'NPM_FAILED', `npm ${what} failed (exit ${res.code}): ${detail}`)
}
