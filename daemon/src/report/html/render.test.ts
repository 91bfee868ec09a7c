import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { placeholderRun } from '../report-model.ts'
import { renderReport } from './render.ts'

const evil = '<img src=x onerror="alert(1)"></script><script>alert(2)</script>'

describe('renderReport', () => {
  it('escapes every name and error, and keeps the data block from closing its script', () => {
    const run = { ...placeholderRun('r1', evil, evil), scenario: { name: evil } }
    const html = renderReport([run, placeholderRun('r2', 'second', 'down')])
    expect(html).not.toContain('<img src=x')
    expect(html).not.toContain('<script>alert(2)')
    const data = /<script type="application\/json" id="iotload-data">([\s\S]*?)<\/script>/.exec(html)![1]!
    expect(JSON.parse(data).runs[0].name).toBe(evil)
  })

  it('allows exactly its own inline scripts by hash, and no request of any kind', () => {
    const html = renderReport([placeholderRun('r1', 'one', 'down')])
    const csp = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)![1]!
    expect(csp).toMatch(
      /^default-src 'none'; script-src 'sha256-[^']+' 'sha256-[^']+'; style-src 'unsafe-inline'; img-src data:$/,
    )
    expect(csp).not.toContain("script-src 'unsafe-inline'")
    const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1]!)
    expect(scripts).toHaveLength(2)
    for (const js of scripts)
      expect(csp).toContain(`'sha256-${createHash('sha256').update(js).digest('base64')}'`)
  })
})
