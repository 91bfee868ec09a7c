/**
 * Every secret value seen, so logs and errors can be scrubbed of them. Values that exist only for
 * one run (per-device passwords: thousands per run) live in that run's scope and are forgotten when
 * the last user of the scope closes it, so a long-lived daemon neither grows nor slows per run.
 */
export class SecretRegistry {
  private readonly values = new Set<string>()
  /**
   * Every value, process-wide and scoped, longest first, so a secret containing another is
   * scrubbed whole (`pass-{device}-${env:PW}` before PW). Rebuilt after a change.
   */
  private longestFirst: string[] | undefined
  private readonly scopes = new Map<
    string,
    { users: number; values: Set<string>; patterns: Map<string, RegExp> }
  >()

  /** Registers a value for the life of the process, or of `scope` while that scope is open. */
  add(value: string | undefined, scope?: string): void {
    if (!value || value.length < 3) return
    const scoped = scope === undefined ? undefined : this.scopes.get(scope)
    const into = scoped ? scoped.values : this.values
    if (into.has(value)) return
    into.add(value)
    this.longestFirst = undefined
  }

  /** Opens (or joins) a scope; pair every call with `closeScope`. */
  openScope(scope: string): void {
    const s = this.scopes.get(scope)
    if (s) s.users++
    else this.scopes.set(scope, { users: 1, values: new Set(), patterns: new Map() })
  }

  /**
   * Registers a family of values for the life of an open scope: the per-device passwords a
   * template renders (`pass-{device}` → /pass-\d+/). One pattern instead of one value per device,
   * so scrubbing costs the same for 10 devices or 100,000.
   */
  addPattern(pattern: RegExp, scope: string): void {
    const s = this.scopes.get(scope)
    if (!s || s.patterns.has(pattern.source)) return
    s.patterns.set(pattern.source, new RegExp(pattern.source, 'g'))
  }

  closeScope(scope: string): void {
    const s = this.scopes.get(scope)
    if (s && --s.users <= 0) {
      this.scopes.delete(scope)
      this.longestFirst = undefined
    }
  }

  /** Replaces every known secret in `text` with `[redacted]`. */
  scrub(text: string): string {
    let out = text
    this.longestFirst ??= this.all().sort((a, b) => b.length - a.length)
    // Patterns first: a rendered password contains the literal parts registered as values.
    for (const s of this.scopes.values())
      for (const re of s.patterns.values()) out = out.replace(re, '[redacted]')
    for (const v of this.longestFirst) if (out.includes(v)) out = out.split(v).join('[redacted]')
    return redactUrlPasswords(out)
  }

  private all(): string[] {
    const out = [...this.values]
    for (const s of this.scopes.values()) for (const v of s.values) if (!this.values.has(v)) out.push(v)
    return [...new Set(out)]
  }

  get size(): number {
    let n = this.values.size
    for (const s of this.scopes.values()) n += s.values.size + s.patterns.size
    return n
  }
}

/** The process-wide registry used by the logger. */
export const secrets = new SecretRegistry()

/** Shared, not a literal inside the function: that would build a new RegExp for every string scrubbed. */
const URL_PASSWORD = /(\/\/[^:/@\s]*:)[^\s/?#]*@/g

/**
 * `scheme://user:pw@host` and `scheme://:pw@host` → the password replaced by `[redacted]`, up to
 * the last `@` of the authority, so a password containing `@` is hidden whole.
 */
export function redactUrlPasswords(text: string): string {
  if (!text.includes('@')) return text
  return text.replace(URL_PASSWORD, '$1[redacted]@')
}
