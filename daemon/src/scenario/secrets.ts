import { readFileSync } from 'node:fs'
import { ConfigError } from '@iotload/sdk'

const REFERENCE = /\$\{(env|file):([^}]+)\}/g

/** Keys whose values are secret wherever they appear. */
export const SECRET_KEY = /(password|passphrase|token|secret|privatekey|secretkey|^key$|apikey|credentials)/i

/**
 * Every secret value seen, so logs and errors can be scrubbed of them. Values that exist only for
 * one run (per-device passwords: thousands per run) live in that run's scope and are forgotten when
 * the last user of the scope closes it, so a long-lived daemon neither grows nor slows per run.
 */
export class SecretRegistry {
  private readonly values = new Set<string>()
  /** `values`, longest first, so a secret containing another is scrubbed whole. */
  private longestFirst: string[] | undefined
  private readonly scopes = new Map<string, { users: number; values: Set<string> }>()

  /** Registers a value for the life of the process, or of `scope` while that scope is open. */
  add(value: string | undefined, scope?: string): void {
    if (!value || value.length < 3) return
    const scoped = scope === undefined ? undefined : this.scopes.get(scope)
    if (scoped) scoped.values.add(value)
    else if (!this.values.has(value)) {
      this.values.add(value)
      this.longestFirst = undefined
    }
  }

  /** Opens (or joins) a scope; pair every call with `closeScope`. */
  openScope(scope: string): void {
    const s = this.scopes.get(scope)
    if (s) s.users++
    else this.scopes.set(scope, { users: 1, values: new Set() })
  }

  closeScope(scope: string): void {
    const s = this.scopes.get(scope)
    if (s && --s.users <= 0) this.scopes.delete(scope)
  }

  /** Replaces every known secret in `text` with `[redacted]`. */
  scrub(text: string): string {
    let out = text
    // Scoped values first: a per-device password usually contains a process-wide secret
    // (`pass-{device}-${env:PW}`), and scrubbing the part first would leave the rest readable.
    for (const s of this.scopes.values())
      for (const v of s.values) if (out.includes(v)) out = out.split(v).join('[redacted]')
    this.longestFirst ??= [...this.values].sort((a, b) => b.length - a.length)
    for (const v of this.longestFirst) if (out.includes(v)) out = out.split(v).join('[redacted]')
    return out.replace(/(\/\/[^:/@\s]+:)[^@/\s]+@/g, '$1[redacted]@')
  }

  get size(): number {
    let n = this.values.size
    for (const s of this.scopes.values()) n += s.values.size
    return n
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
