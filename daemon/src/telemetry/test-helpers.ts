import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { freePort } from '@iotload/sdk/testing'

/** The iotload bin, run as a real process by the integration tests. */
export const IOTLOAD_BIN = fileURLToPath(new URL('../../bin/iotload.js', import.meta.url))

/**
 * Whether a binary an integration test needs exists; like requireService, a missing one skips
 * loudly locally and fails under CI=true.
 */
export function requireBinary(name: string, path: string, hint: string): boolean {
  if (existsSync(path)) return true
  const line = `${name} is not installed at ${path}`
  if (process.env.CI === 'true') throw new Error(`${line}; CI requires it (${hint})`)
  process.stderr.write(`\n!!! SKIPPING: ${line}. ${hint} !!!\n\n`)
  return false
}

/** Polls `fn` until it returns a defined value or the time is up. */
export async function eventually<T>(
  fn: () => Promise<T | undefined>,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const until = Date.now() + timeoutMs
  let last: unknown
  while (Date.now() < until) {
    try {
      const v = await fn()
      if (v !== undefined) return v
    } catch (err) {
      last = err
    }
    await new Promise((r) => setTimeout(r, 500))
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`)
}

/** Runs the iotload CLI to completion. */
export function runCli(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [IOTLOAD_BIN, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => {
      stdout += d
    })
    child.stderr.on('data', (d) => {
      stderr += d
    })
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

export { freePort }
