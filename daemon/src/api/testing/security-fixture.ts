import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { expect } from 'vitest'
import { mqttScenario } from '../test-fixtures.ts'

// Shared by the security-*.int.test.ts files: one regression test per attack of issue #11, each
// against a real daemon process, each asserting the refusal AND that nothing ran.

/**
 * A private directory with what the attacks reach for: a module whose top-level code leaves a
 * marker file (importing it is running attacker code), allowed and symlinked transforms, secrets
 * inside and outside the allowed directory, and a FIFO. `remove()` deletes it all.
 */
export function createSecurityFixture() {
  const dir = mkdtempSync(join(tmpdir(), 'iotload-security-'))
  const topic = `iotload-sec-${process.pid}-${Date.now()}`
  const marker = join(dir, 'pwned')
  const outside = join(dir, 'outside')
  const transforms = join(dir, 'transforms')
  const secretsDir = join(dir, 'secrets')
  for (const d of [outside, transforms, secretsDir]) mkdirSync(d)
  // A module whose top-level code leaves a trace: importing it is running attacker code.
  const evil = join(outside, 'evil.mjs')
  writeFileSync(
    evil,
    `import { writeFileSync } from 'node:fs'\nwriteFileSync(${JSON.stringify(marker)}, 'ran')\nexport default (m) => m\n`,
  )
  writeFileSync(join(transforms, 'ok.mjs'), 'export default (m) => ({ ...m, ok: true })\n')
  symlinkSync(evil, join(transforms, 'link.mjs'))
  writeFileSync(join(outside, 'secret.txt'), 'outside-secret-value\n')
  writeFileSync(join(secretsDir, 'mqtt-pw'), 'inside-Secret-7d1e\n')
  symlinkSync(join(outside, 'secret.txt'), join(secretsDir, 'escape'))
  execFileSync('mkfifo', [join(secretsDir, 'fifo')])

  const scenario = (extra: Record<string, unknown> = {}) =>
    mqttScenario(`${topic}/s`, {
      producer: { devices: 2, rate: '2/s', duration: '1s', topic: `${topic}/s/{device}` },
      ...extra,
    })

  /** Nothing ran: no marker, no run row (asked of the API and of the database file). */
  async function nothingRan(url: string, dbFile: string): Promise<void> {
    expect(existsSync(marker), 'the attacker module ran').toBe(false)
    const list = (await (await fetch(`${url}/v1/runs`)).json()) as { runs: unknown[] }
    expect(list.runs).toEqual([])
    const sqlite = new Database(dbFile, { readonly: true })
    try {
      expect((sqlite.prepare('SELECT COUNT(*) AS n FROM runs').get() as { n: number }).n).toBe(0)
    } finally {
      sqlite.close()
    }
  }

  return {
    dir,
    topic,
    marker,
    outside,
    transforms,
    secretsDir,
    evil,
    scenario,
    nothingRan,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  }
}

/** An API error body. */
export interface ApiError {
  error: { code: string; message: string; path?: string }
}

/** Asserts the status (and the field path, if given) of a refusal and returns its body. */
export async function refused(res: Response, status: number, path?: string): Promise<ApiError> {
  const text = await res.text()
  expect(res.status, text).toBe(status)
  const body = JSON.parse(text) as ApiError
  if (path !== undefined) expect(body.error.path, text).toBe(path)
  return body
}

/**
 * A raw HTTP request with exactly the headers given: fetch adds a Content-Type to a string body and
 * will not send a Host header of the caller's choosing.
 */
export function raw(
  method: string,
  url: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
) {
  const u = new URL(url)
  return new Promise<{ status: number; text: string; headers: Record<string, unknown> }>(
    (resolve, reject) => {
      const req = request({ host: u.hostname, port: u.port, path, method, headers }, (res) => {
        let text = ''
        res.setEncoding('utf8').on('data', (c: string) => {
          text += c
        })
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text, headers: res.headers }))
      })
      req.on('error', reject)
      req.end(body)
    },
  )
}

/** A raw POST with exactly these headers. */
export const rawPost = (url: string, path: string, headers: Record<string, string>, body: string) =>
  raw('POST', url, path, headers, body)
/** A raw GET with the Host header given. */
export const getWithHost = (url: string, path: string, host: string, extra: Record<string, string> = {}) =>
  raw('GET', url, path, { host, ...extra })
