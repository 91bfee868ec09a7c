import { describe, expect, it } from 'vitest'
import { parseBoundedYaml, YamlTooDeepError } from './bounded-yaml.ts'

/** `[[…[1]…]]`, `depth` collections deep. */
const flowSeq = (depth: number) => `${'['.repeat(depth)}1${']'.repeat(depth)}`
/** `a:\n  a:\n    …: 1`, `depth` maps deep by indentation. */
const indented = (depth: number) =>
  `${Array.from({ length: depth }, (_, i) => `${'  '.repeat(i)}a:`).join('\n')} 1\n`

describe('parseBoundedYaml', () => {
  it('parses YAML nested exactly to the limit, flow and block', () => {
    let expected: unknown = 1
    for (let i = 0; i < 64; i++) expected = [expected]
    expect(parseBoundedYaml(flowSeq(64), 64)).toEqual(expected)
    expect(parseBoundedYaml(`${'- '.repeat(64)}1`, 64)).toEqual(expected)
    expect(JSON.stringify(parseBoundedYaml(indented(64), 64)).match(/\{/g)).toHaveLength(64)
  })

  it('refuses one level more, for every way YAML nests', () => {
    const tooDeep = [
      flowSeq(65),
      `${'{a: '.repeat(65)}1${'}'.repeat(65)}`,
      `${'- '.repeat(65)}1`,
      `${'? '.repeat(65)}1`,
      indented(65),
      // A collection as a flow key counts like any other.
      `${'['.repeat(64)}[a]: b${']'.repeat(64)}`,
    ]
    for (const text of tooDeep) expect(() => parseBoundedYaml(text, 64), text).toThrow(YamlTooDeepError)
  })

  it('refuses nesting deep enough to exhaust the stack with the nesting error, whatever the shape', () => {
    // Unclosed, closed, block and indentation nesting; the last two make yaml's parser recurse.
    const attacks = [
      '['.repeat(20_000),
      flowSeq(20_000),
      '{a: '.repeat(20_000),
      `${'- '.repeat(20_000)}x\nb: 1\n`,
      indented(1400),
    ]
    for (const text of attacks)
      expect(() => parseBoundedYaml(text, 64), text.slice(0, 20)).toThrow('nested deeper than 64 levels')
  })

  it("still reports yaml's own errors and honours its options", () => {
    expect(() => parseBoundedYaml('a: [1, 2', 64)).toThrow(/flow sequence/i)
    expect(() => parseBoundedYaml('a: 1\na: 2', 64, { uniqueKeys: true })).toThrow(/unique/i)
    expect(() => parseBoundedYaml('---\na: 1\n---\nb: 2', 64)).toThrow(/multiple documents/i)
    expect(() => parseBoundedYaml('a: &a [1]\nb: [*a, *a, *a]', 64, { maxAliasCount: 2 })).toThrow(/alias/i)
    expect(parseBoundedYaml('a: &x 1\nb: *x', 64)).toEqual({ a: 1, b: 1 })
  })
})

describe('parseBoundedYaml: duplicate keys', () => {
  it('refuses a key repeated within one map, anywhere in the document, and accepts the same key in different maps', () => {
    expect(() => parseBoundedYaml('a: 1\nb: 2\na: 3\n', 64)).toThrow(/'a' is repeated/)
    expect(() => parseBoundedYaml('x:\n  - {k: 1, k: 2}\n', 64)).toThrow(/'k' is repeated/)
    expect(parseBoundedYaml('a: {k: 1}\nb: {k: 2}\n', 64)).toEqual({ a: { k: 1 }, b: { k: 2 } })
  })

  it('checks a map of 60,000 keys in one pass (the pairwise check took tens of seconds)', () => {
    const lines = Array.from({ length: 60_000 }, (_, i) => `k${i}: ${i}`)
    const t0 = performance.now()
    expect(Object.keys(parseBoundedYaml(lines.join('\n'), 64) as object)).toHaveLength(60_000)
    expect(() => parseBoundedYaml(`${lines.join('\n')}\nk17: 0`, 64)).toThrow(/'k17' is repeated/)
    process.stderr.write(
      `60,000-key YAML map parsed and checked twice in ${Math.round(performance.now() - t0)} ms\n`,
    )
  })
})
