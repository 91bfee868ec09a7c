import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { requireService } from '@iotload/sdk/testing'
import { afterAll, describe, expect, it } from 'vitest'
import { stringify } from 'yaml'

// The real limit of a real process: `iotload run` under `ulimit -n 256` with a 1,000-device fleet.
const BIN = fileURLToPath(new URL('../../bin/iotload.js', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'iotload-fd-'))
const mosquitto = await requireService('Mosquitto', '127.0.0.1', 1883)
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe.skipIf(!mosquitto || process.platform !== 'linux')('the open-file limit, from the CLI', () => {
  it('refuses at once (exit 2), before connecting anything, and says what to do', () => {
    const file = join(dir, 'big.yaml')
    writeFileSync(
      file,
      stringify({
        broker: { plugin: 'mqtt', url: 'mqtt://127.0.0.1:1883' },
        producer: { devices: 1000, rate: '1/s', duration: '5s', topic: 'fd-limit/{device}' },
      }),
    )
    const r = spawnSync(
      'sh',
      [
        '-c',
        `ulimit -n 256 && exec "${process.execPath}" "${BIN}" run "${file}" --db "${join(dir, 'r.db')}"`,
      ],
      {
        encoding: 'utf8',
        timeout: 60_000,
      },
    )
    expect(r.status).toBe(2)
    expect(r.stderr).toMatch(
      /producer\.devices: this run needs about 1,\d{3} open files .* may open 256 \(ulimit -n\)/,
    )
    expect(r.stderr).toMatch(/Raise the limit before starting iotload \(ulimit -n \d+/)
    // Nothing connected: no connect progress was printed.
    expect(r.stderr).not.toMatch(/connecting/)
  }, 90_000)
})
