import { readFileSync } from 'node:fs'
import { ConfigError } from '@iotload/sdk'

const REFERENCE = /\$\{(env|file):([^}]+)\}/g

/** Keys whose values are secret wherever they appear. */
export const SECRET_KEY = /(password|passphrase|token|secret|privatekey|secretkey|^key$|apikey|credentials)/i

/** Every secret value seen while loading, so logs and errors can be scrubbed of them. */
export class SecretRegistry {
  private readonly values = new Set<string>()

  add(value: string | undefined): void {
    if (value && value.length >= 3) this.values.add(value)
  }

  /** Replaces every known secret in `text` with `[redacted]`. */
  scrub(text: string): string {
    let out = text
    for (const v of this.values) if (out.includes(v)) out = out.split(v).join('[redacted]')
    return out.replace(/(\/\/[^:/@\s]+:)[^@/\s]+@/g, '$1[redacted]@')
  }

  get size(): number {
    return this.values.size
  }
}

/** The process-wide registry used by the logger. */
export const secrets = new SecretRegistry()

function resolveString(
  value: string,
  path: string,
  registry: SecretRegistry,
  env: NodeJS.ProcessEnv,
): string {
  if (!value.includes('${')) return value
  return value.replace(REFERENCE, (_, kind: string, ref: string) => {
    let resolved: string
    if (kind === 'env') {
      const v = env[ref]
      if (v === undefined) throw new ConfigError(path, `environment variable ${ref} is not set`)
      resolved = v
    } else {
      try {
        resolved = readFileSync(ref, 'utf8').trimEnd()
      } catch (err) {
        throw new ConfigError(path, `cannot read secret file '${ref}'`, { cause: err })
      }
    }
    registry.add(resolved)
    return resolved
  })
}

/**
 * Replaces `${env:NAME}` and `${file:PATH}` references everywhere in a raw scenario, returning a
 * new object. Every resolved value, and every literal under a secret-looking key, is registered.
 */
export function resolveSecrets(
  raw: unknown,
  registry: SecretRegistry = secrets,
  env: NodeJS.ProcessEnv = process.env,
  path = '',
): unknown {
  if (typeof raw === 'string') return resolveString(raw, path, registry, env)
  if (Array.isArray(raw)) return raw.map((v, i) => resolveSecrets(v, registry, env, `${path}[${i}]`))
  if (raw !== null && typeof raw === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(raw)) {
      const child = path ? `${path}.${k}` : k
      const resolved = resolveSecrets(v, registry, env, child)
      if (SECRET_KEY.test(k) && typeof resolved === 'string' && !resolved.includes('{'))
        registry.add(resolved)
      out[k] = resolved
    }
    return out
  }
  return raw
}
