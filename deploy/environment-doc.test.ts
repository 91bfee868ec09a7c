import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { environmentDoc } from '../scripts/env-table.ts'

const ROOT = fileURLToPath(new URL('..', import.meta.url))

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f)
    return statSync(p).isDirectory() ? filesUnder(p) : [p]
  })
}

describe('docs/environment.md', () => {
  it('is generated from the current schemas', async () => {
    const doc = readFileSync(join(ROOT, 'docs', 'environment.md'), 'utf8')
    expect(doc, 'regenerate: node --import tsx scripts/env-table.ts > docs/environment.md').toBe(
      await environmentDoc(),
    )
  }, 30_000)

  it('documents every IOTLOAD_* variable the deployment files use', () => {
    const doc = readFileSync(join(ROOT, 'docs', 'environment.md'), 'utf8')
    const used = new Set<string>()
    for (const f of filesUnder(join(ROOT, 'deploy')).filter((p) => !p.endsWith('.test.ts'))) {
      for (const m of readFileSync(f, 'utf8').matchAll(/\bIOTLOAD_[A-Z0-9_]+/g)) used.add(m[0])
    }
    expect(used.size).toBeGreaterThan(3)
    for (const name of used)
      expect(doc, `${name} is used in deploy/ but not documented`).toContain(`\`${name}\``)
  })

  it('documents every IOTLOAD_* and OTEL_* variable the code reads', () => {
    const doc = readFileSync(join(ROOT, 'docs', 'environment.md'), 'utf8')
    const sources = [
      'daemon/src',
      'daemon/bin',
      'otel/src',
      'sdk/src',
      ...readdirSync(join(ROOT, 'plugins')).map((p) => `plugins/${p}/src`),
    ]
      .flatMap((d) => filesUnder(join(ROOT, d)))
      // Test code and test kits read variables of their own (CI, a test's private settings).
      .filter(
        (f) =>
          /\.(ts|js|mjs)$/.test(f) &&
          !/(\.test\.ts|[/\\]testing[/\\].*|-test-helpers\.ts|-fixtures\.ts|[/\\]test-[^/\\]*)$/.test(f),
      )
    const read = new Set<string>()
    // `process.env.X`, `env.X`, `env['X']`, and names handed to a reader as a string literal.
    const pattern =
      /(?:\benv(?:\.|\[['"`]))((?:IOTLOAD|OTEL)_[A-Z0-9_]+)|['"`]((?:IOTLOAD|OTEL)_[A-Z0-9_]+)['"`]/g
    for (const f of sources)
      for (const m of readFileSync(f, 'utf8').matchAll(pattern)) read.add((m[1] ?? m[2])!)
    expect(read).toContain('IOTLOAD_DB')
    expect(read).toContain('OTEL_TRACES_EXPORTER')
    for (const name of read) {
      // A prefix (IOTLOAD_SECRET_, IOTLOAD_BROKER_) is documented by its wildcard or its variables.
      const documented = name.endsWith('_') ? doc.includes(`\`${name}`) : doc.includes(`\`${name}\``)
      expect(
        documented,
        `${name} is read by the code but not in docs/environment.md (scripts/env-table.ts)`,
      ).toBe(true)
    }
  })
})
