import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { nowUs } from '@iotload/sdk'
import { afterAll, describe, expect, it } from 'vitest'
import { MAX_OUTPUT_BYTES, runExec } from './fault-exec.ts'

const dir = mkdtempSync(join(tmpdir(), 'iotload-exec-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** Running (a zombie nobody reaped yet is dead: PID 1 of a container may never reap it). */
const alive = (pid: number) => {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'))
  } catch {
    return false
  }
}

describe('runExec (real /bin/sh)', () => {
  it('runs the command as written through sh -c and keeps its exit status and output', async () => {
    const r = await runExec('echo out; echo err >&2; exit 3', 10_000, nowUs)
    expect(r).toMatchObject({ exitCode: 3, signal: null, timedOut: false, outputDropped: 0 })
    expect(r.output).toContain('out\n')
    expect(r.output).toContain('err\n')
    expect(r.endUs).toBeGreaterThanOrEqual(r.startUs)
  })

  it('keeps at most MAX_OUTPUT_BYTES of output and counts the rest', async () => {
    const r = await runExec(`head -c ${MAX_OUTPUT_BYTES + 5000} /dev/zero | tr '\\0' x`, 10_000, nowUs)
    expect(r.exitCode).toBe(0)
    expect(r.output.length).toBe(MAX_OUTPUT_BYTES)
    expect(r.outputDropped).toBe(5000)
  })

  it('kills the whole process group at its timeout, children included', async () => {
    const pidFile = join(dir, 'child.pid')
    const r = await runExec(`sleep 60 & echo $! > ${pidFile}; wait`, 300, nowUs)
    expect(r.timedOut).toBe(true)
    expect(r.exitCode === null || r.exitCode !== 0).toBe(true)
    const child = Number(readFileSync(pidFile, 'utf8'))
    expect(child).toBeGreaterThan(0)
    expect(alive(child)).toBe(false)
  })

  it('returns when the command exits even if a daemon it started keeps the pipes open', async () => {
    const pidFile = join(dir, 'daemon.pid')
    const r = await runExec(`(sleep 30 & echo $! > ${pidFile}) ; echo started`, 10_000, nowUs)
    expect(r.exitCode).toBe(0)
    expect(r.timedOut).toBe(false)
    expect(r.output).toContain('started')
    const pid = Number(readFileSync(pidFile, 'utf8'))
    // Not a timeout: what the command left running is the operator's (a broker it started, say).
    expect(alive(pid)).toBe(true)
    process.kill(pid, 'SIGKILL')
  })

  it('a command that does not exist is a failed outcome (sh exits 127), never a throw', async () => {
    const r = await runExec('definitely-not-a-command-iotload', 10_000, nowUs)
    expect(r.exitCode).toBe(127)
    expect(existsSync(dir)).toBe(true)
  })
})
