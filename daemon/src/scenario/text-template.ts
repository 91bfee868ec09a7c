import { ConfigError } from '@iotload/sdk'
import { SECRET_KEY } from './secrets.ts'

/** Variables a topic, client id or credential template may use. */
export interface TextVars {
  device: number
  run: string
}

/** `{{` and `}}` are literal braces; `{name}` is a placeholder; any other brace is literal. */
const TOKEN = /\{\{|\}\}|\{([a-zA-Z]+)\}/g
const ALLOWED = new Set(['device', 'run'])

type Part = string | { name: 'device' | 'run' }

/** Splits a template into literal text and placeholders; throws ConfigError on an unknown one. */
function parse(template: string, path: string): Part[] {
  const parts: Part[] = []
  let literal = ''
  let last = 0
  for (const m of template.matchAll(TOKEN)) {
    literal += template.slice(last, m.index)
    last = m.index + m[0].length
    if (m[0] === '{{' || m[0] === '}}') {
      literal += m[0][0]
      continue
    }
    const name = m[1]!
    if (!ALLOWED.has(name)) {
      // A password may contain braces: never echo a fragment of a secret field.
      const what = SECRET_KEY.test(path.split('.').pop() ?? '')
        ? 'an unknown placeholder'
        : `unknown placeholder {${name}}`
      throw new ConfigError(path, `${what}; allowed: {device}, {run}; write {{ and }} for literal braces`)
    }
    if (literal) parts.push(literal)
    literal = ''
    parts.push({ name: name as 'device' | 'run' })
  }
  literal += template.slice(last)
  if (literal) parts.push(literal)
  return parts
}

/**
 * Compiles `devices/{device}/telemetry` once into a renderer. Unknown placeholders are a
 * ConfigError naming the field, so a typo like `{devce}` never reaches the broker; `{{` and `}}`
 * stand for literal braces (a password such as `p{{x}}w` is `p{x}w`).
 */
export function compileTextTemplate(template: string, path: string): (vars: TextVars) => string {
  const parts = parse(template, path)
  if (parts.every((p) => typeof p === 'string')) {
    const constant = parts.join('')
    return () => constant
  }
  return (vars) => {
    let out = ''
    for (const p of parts)
      out += typeof p === 'string' ? p : p.name === 'device' ? String(vars.device) : vars.run
    return out
  }
}

/**
 * A regular expression matching every value a template renders for one run: `pass-{device}` →
 * /pass-\d+/ (used to scrub per-device secrets without registering each one).
 */
export function templatePattern(template: string, run: string): RegExp {
  const literal = (t: string) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  let source = ''
  for (const p of parse(template, 'template'))
    source += typeof p === 'string' ? literal(p) : p.name === 'device' ? '\\d+' : literal(run)
  return new RegExp(source, 'g')
}

/**
 * Turns a topic template into a subscription filter: each level holding a `{…}` becomes the
 * single-level wildcard, whole (`dev-{device}` → `+`, `fleet-{run}` → `+`), since brokers accept a
 * wildcard only as a complete level. Levels are split on '/', or on '.' for the syntaxes whose
 * single-level wildcard is `*` (NATS subjects, Kafka topic names).
 */
export function templateToFilter(template: string, singleLevelWildcard: string): string {
  const separator = singleLevelWildcard === '*' ? '.' : '/'
  const levels: Array<{ text: string; templated: boolean }> = [{ text: '', templated: false }]
  for (const p of parse(template, 'topic')) {
    if (typeof p !== 'string') {
      levels[levels.length - 1]!.templated = true
      continue
    }
    const pieces = p.split(separator)
    levels[levels.length - 1]!.text += pieces[0]
    for (const piece of pieces.slice(1)) levels.push({ text: piece, templated: false })
  }
  return levels.map((l) => (l.templated ? singleLevelWildcard : l.text)).join(separator)
}
