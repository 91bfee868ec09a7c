import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { requireService } from '@iotload/sdk/testing'
import { describe, expect, it } from 'vitest'
import { stringify } from 'yaml'

const BIN = fileURLToPath(new URL('../../bin/iotload.js', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'iotload-slo-'))
const mosquitto = await requireService('Mosquitto', '127.0.0.1', 1883)

function run(slo: Record<string, string | number>): Promise<{ code: number | null; stdout: string }> {
  const root = `slo-${randomUUID().slice(0, 8)}`
  const file = join(dir, `${root}.yaml`)
  writeFileSync(
    file,
    stringify({
      name: 'slo check',
      broker: { plugin: 'mqtt', url: 'mqtt://127.0.0.1:1883' },
      producer: {
        devices: 2,
        rate: '10/s',
        duration: '2s',
        topic: `${root}/devices/{device}/telemetry`,
        payload: { valve: '{choice:open|closed}', device: '{device}' },
        qos: 1,
      },
      bridge: { from: `${root}/devices/{device}/telemetry`, to: `${root}/actions/{device}`, delay: '1ms' },
      slo,
    }),
  )
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, 'run', file, '--db', join(dir, `${root}.db`), '--quiet'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    child.stdout.on('data', (d) => {
      stdout += d
    })
    child.on('close', (code) => resolve({ code, stdout }))
  })
}

/** The SLO table row for `key`, e.g. `e2e.p99  ≤ 1us  2.345ms  FAIL`. */
function row(stdout: string, key: string): string | undefined {
  return stdout.split('\n').find((l) => l.trimStart().startsWith(`${key} `))
}

describe.skipIf(!mosquitto)('SLO thresholds through the CLI', () => {
  it('an SLO that cannot be met (e2e.p99: 1us) prints FAIL and exits 1', async () => {
    const r = await run({ 'e2e.p99': '1us', loss: 0 })
    expect(row(r.stdout, 'e2e.p99')).toMatch(/≤ 1us.*FAIL/)
    expect(row(r.stdout, 'loss')).toMatch(/PASS/)
    expect(r.code).toBe(1)
  })
  it('generous thresholds, including the bridge-processing leg, print PASS and exit 0', async () => {
    const r = await run({ 'e2e.p99': '10s', 'bridge.p99': '10s', 'e2e.co.p99': '10s', loss: 0 })
    for (const key of ['e2e.p99', 'bridge.p99', 'e2e.co.p99', 'loss'])
      expect(row(r.stdout, key)).toMatch(/PASS/)
    expect(r.stdout).not.toMatch(/FAIL/)
    expect(r.code).toBe(0)
  })
})
