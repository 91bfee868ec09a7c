import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { killStartedDaemons, startDaemon } from './testing/daemon-process.ts'

// Regression for a process abort found by the REST fuzz test: YAML nested ~1,900 levels deep made
// V8 compile one of yaml's regexps with the JS stack nearly exhausted, and V8 answers that with
// "FATAL ERROR: RegExpCompiler Allocation failed - process out of memory" instead of a RangeError.
// Before the fix this sweep killed a fresh daemon after ~225 requests, every time.

const dir = mkdtempSync(join(tmpdir(), 'iotload-deep-yaml-'))
afterEach(killStartedDaemons)
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('iotload daemon: deeply nested YAML bodies', () => {
  it('answers every depth with 400 and keeps serving (no V8 abort in the regexp compiler)', async () => {
    const d = await startDaemon(join(dir, 'deep.db'))
    const statuses = new Map<number, number>()
    const messages = new Set<string>()
    // Every depth where the JS stack runs out, whatever the JIT has done to frame sizes so far.
    const bodies: string[] = []
    for (let depth = 300; depth <= 3000; depth += 7) bodies.push('['.repeat(depth))
    bodies.push('['.repeat(100_000), '{a: '.repeat(50_000), `${'- '.repeat(100_000)}x\nb: 1\n`)
    for (const body of bodies) {
      let res: Response
      try {
        res = await fetch(`${d.url}/v1/runs`, {
          method: 'POST',
          headers: { 'content-type': 'application/yaml' },
          body,
        })
      } catch (err) {
        const fatal = /FATAL ERROR.*/.exec(d.stderr())?.[0] ?? d.stderr().slice(-500)
        throw new Error(`daemon died on a body ${body.length} characters deep: ${fatal}`, { cause: err })
      }
      const answer = (await res.json()) as { error: { code: string; message: string } }
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1)
      messages.add(`${answer.error.code}: ${answer.error.message}`)
    }
    expect([...statuses]).toEqual([[400, bodies.length]])
    expect([...messages]).toEqual(['BODY_INVALID: the body is nested deeper than 64 levels'])
    expect((await fetch(`${d.url}/healthz`)).status).toBe(200)
    expect(d.stderr()).not.toMatch(/FATAL ERROR/)
  }, 90_000)
})
