import { randomUUID } from 'node:crypto'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { stringify } from 'yaml'
import { findMaxCommand } from './find-max-command.ts'

// The command in process, on the memory broker: exit codes and messages (find-max.int.test.ts
// runs it as a process against Mosquitto).
const dir = mkdtempSync(join(tmpdir(), 'iotload-find-max-cmd-'))

function scenarioFile(s: unknown): string {
  const path = join(dir, `${randomUUID()}.yaml`)
  writeFileSync(path, stringify(s))
  return path
}

/** Runs the command and collects what it wrote. */
async function findMax(args: string[]) {
  const out: string[] = []
  const err: string[] = []
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => out.push(String(s)) > 0)
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => err.push(String(s)) > 0)
  try {
    const code = await findMaxCommand(args, {})
    return { code, stdout: out.join(''), stderr: err.join('') }
  } finally {
    o.mockRestore()
    e.mockRestore()
  }
}

const fleet = { devices: 4, totalRate: '200/s', duration: '1s', warmup: '300ms', topic: 'cmd/{device}' }
afterEach(() => vi.restoreAllMocks())

describe('iotload find-max (in process)', () => {
  it('a path that fails at the floor rate says so and exits 1', async () => {
    const file = scenarioFile({
      name: 'lossy',
      broker: { plugin: 'memory', bus: `cmd-${randomUUID()}`, loss: 0.5 },
      producer: fleet,
      run: { drain: '300ms', generator: { maxEventLoopDelay: '10s' } },
    })
    const r = await findMax([file, '--db', join(dir, 'floor.db'), '--quiet'])
    expect(r.code, r.stderr).toBe(1)
    expect(r.stdout).toMatch(/fails at the floor rate 200 msg\/s \(loss: \d+ messages lost/)
  })

  it.each([
    [['--precision', '90%'], /--precision: expected a precision/],
    [['--slo', 'e2e.p99'], /--slo: expected key=value/],
    [['--max-probes', '99'], /--max-probes/],
    [['--max-rate', 'lots'], /--max-rate must be a rate/],
    [['--to', '10/s'], /from: the floor 200\/s is above the ceiling 10\/s/],
    [['--frobnicate'], /Unknown option '--frobnicate'/],
  ])('refuses %j with exit 2', async (flags, message) => {
    const r = await findMax([scenarioFile({ broker: { plugin: 'memory' }, producer: fleet }), ...flags])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(message)
  })

  it('refuses a scenario with stages (find-max sets the rate), and a missing file, with exit 2', async () => {
    const stages = scenarioFile({
      broker: { plugin: 'memory' },
      producer: { devices: 2, stages: [{ duration: '2s', target: '100/s' }] },
    })
    const r = await findMax([stages])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/producer\.stages: find-max sets the rate itself/)
    expect((await findMax([join(dir, 'nope.yaml')])).stderr).toMatch(/cannot read scenario file/)
    expect((await findMax([])).code).toBe(2)
  })
})
