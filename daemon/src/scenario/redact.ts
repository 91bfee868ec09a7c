import { redactUrlPasswords } from '../log/secret-registry.ts'
import { SECRET_KEY } from './secrets.ts'

const REFERENCE = /^\$\{(env|file):[^}]+\}$/

/**
 * A copy of the scenario fit to store or echo: secret-looking keys keep only a `${env:…}` /
 * `${file:…}` reference (never its value) or become `[redacted]`; URL passwords are masked.
 * Apply it to the scenario *before* references are resolved.
 */
export function redactScenario(raw: unknown): unknown {
  if (typeof raw === 'string') return redactUrlPasswords(raw)
  if (Array.isArray(raw)) return raw.map(redactScenario)
  if (raw !== null && typeof raw === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(raw)) {
      if (SECRET_KEY.test(k) && v !== undefined && v !== null && typeof v !== 'object') {
        out[k] = typeof v === 'string' && REFERENCE.test(v) ? v : '[redacted]'
      } else {
        out[k] = redactScenario(v)
      }
    }
    return out
  }
  return raw
}
