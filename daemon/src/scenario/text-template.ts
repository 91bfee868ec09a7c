import { ConfigError } from '@iotload/sdk'

/** Variables a topic, client id or credential template may use. */
export interface TextVars {
  device: number
  run: string
}

const PLACEHOLDER = /\{([a-zA-Z]+)\}/g
const ALLOWED = new Set(['device', 'run'])

/**
 * Compiles `devices/{device}/telemetry` once into a renderer. Unknown placeholders are a
 * ConfigError naming the field, so a typo like `{devce}` never reaches the broker.
 */
export function compileTextTemplate(template: string, path: string): (vars: TextVars) => string {
  for (const m of template.matchAll(PLACEHOLDER)) {
    if (!ALLOWED.has(m[1]!)) {
      throw new ConfigError(path, `unknown placeholder {${m[1]}}; allowed: {device}, {run}`)
    }
  }
  if (!template.includes('{')) return () => template
  const parts = template.split(PLACEHOLDER)
  // split with a capture group alternates literal, name, literal, name, …
  return (vars) => {
    let out = ''
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!
      out += i % 2 === 0 ? p : p === 'device' ? String(vars.device) : vars.run
    }
    return out
  }
}

/** Turns a topic template into a subscription filter: each `{…}` level becomes the single-level wildcard. */
export function templateToFilter(template: string, singleLevelWildcard: string): string {
  return template.replace(/\{[a-zA-Z]+\}/g, singleLevelWildcard)
}
