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
})
