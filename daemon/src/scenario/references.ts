import { ConfigError } from '@iotload/sdk'
import { readAllowedFile } from './allowed-files.ts'
import { SECRET_KEY } from './secrets.ts'
import { envAllowed, SECRET_ENV_PREFIX, type TrustPolicy } from './trust-policy.ts'

const REFERENCE = /\$\{(env|file):([^}]+)\}/g
const HAS_REFERENCE = /\$\{(env|file):/
/** A scenario needs a handful of credentials; more references are a way to multiply memory. */
export const MAX_REFERENCES = 32
/** Everything references resolve to, together. */
export const MAX_RESOLVED_BYTES = 256 * 1024

/** Sections whose every field is a credential: references resolve there for any sender. */
const CREDENTIAL_SECTIONS = [
  ['broker', 'auth'],
  ['broker', 'tls'],
  ['bridge', 'broker', 'auth'],
  ['bridge', 'broker', 'tls'],
]

/** Options of `resolveReferences`. */
export interface ReferenceOptions {
  policy: TrustPolicy
  env: NodeJS.ProcessEnv
  /** Further paths where a remote scenario may use references: fields plugins marked secret. */
  secretPaths?: string[][]
}

/** The scenario with references replaced, and every secret value it holds (to register for its run). */
export interface ResolvedReferences {
  value: unknown
  secrets: string[]
}

function startsWith(path: string[], prefix: string[]): boolean {
  return prefix.every((p, i) => path[i] === p)
}

function samepath(a: string[], b: string[]): boolean {
  return a.length === b.length && startsWith(a, b)
}

function isCredentialPath(path: string[], o: ReferenceOptions): boolean {
  return (
    CREDENTIAL_SECTIONS.some((s) => startsWith(path, s)) ||
    (o.secretPaths ?? []).some((s) => samepath(path, s))
  )
}

function referenceAllowedAt(path: string[], o: ReferenceOptions): boolean {
  return o.policy.origin === 'local' || isCredentialPath(path, o)
}

/** Running totals that bound what references may resolve to. */
interface Budget {
  references: number
  bytes: number
}

function show(path: string[]): string {
  return path.join('.').replace(/\.(\d+)(?=\.|$)/g, '[$1]')
}

async function resolveString(
  value: string,
  path: string[],
  o: ReferenceOptions,
  found: string[],
  budget: Budget,
): Promise<string> {
  if (!HAS_REFERENCE.test(value)) return value
  const field = show(path)
  if (!referenceAllowedAt(path, o))
    throw new ConfigError(
      field,
      '${env:…} and ${file:…} references are allowed only in credential fields (broker.auth.*, broker.tls.*, fields a plugin marks secret) in scenarios sent to the daemon',
    )
  let out = ''
  let last = 0
  for (const m of value.matchAll(REFERENCE)) {
    out += value.slice(last, m.index)
    const [, kind, ref] = m as unknown as [string, string, string]
    if (++budget.references > MAX_REFERENCES)
      throw new ConfigError(
        field,
        `a scenario may hold at most ${MAX_REFERENCES} \${env:…}/\${file:…} references`,
      )
    let resolved: string
    if (kind === 'env') {
      if (!envAllowed(o.policy, ref))
        throw new ConfigError(
          field,
          `\${env:${ref}} is not readable by scenarios sent to the daemon: name it in --secret-env or give it the prefix ${SECRET_ENV_PREFIX}`,
        )
      const v = o.env[ref]
      if (v === undefined) throw new ConfigError(field, `environment variable ${ref} is not set`)
      resolved = v
    } else {
      const data = await readAllowedFile(ref, { policy: o.policy, dir: 'secrets', field })
      resolved = data.toString('utf8').trimEnd()
    }
    budget.bytes += resolved.length
    if (budget.bytes > MAX_RESOLVED_BYTES)
      throw new ConfigError(field, `references resolve to more than ${MAX_RESOLVED_BYTES} bytes in all`)
    found.push(resolved)
    out += resolved
    last = m.index + m[0].length
  }
  return out + value.slice(last)
}

type Task = () => Promise<void>

/** One resolution: its options, what it found, the strings still to resolve, the running totals. */
interface Walk {
  o: ReferenceOptions
  found: string[]
  tasks: Task[]
  budget: Budget
}

/** Copies the scenario synchronously; strings with references become tasks, resolved afterwards. */
function walk(raw: unknown, path: string[], w: Walk): unknown {
  if (typeof raw === 'string') return raw
  if (Array.isArray(raw)) {
    const out: unknown[] = []
    for (const [i, v] of raw.entries()) out.push(child(out, v, i, path, w))
    return out
  }
  if (raw !== null && typeof raw === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(raw)) out[k] = child(out, v, k, path, w)
    return out
  }
  return raw
}

function child(
  parent: Record<string, unknown> | unknown[],
  v: unknown,
  key: string | number,
  path: string[],
  w: Walk,
): unknown {
  const at = path.concat(String(key))
  if (typeof v !== 'string') return walk(v, at, w)
  // Only credentials are secrets to scrub: registering every `password:` of a payload let one run
  // make every response of the daemon scrub (and rename) what it liked, and slow it down.
  const credential =
    (CREDENTIAL_SECTIONS.some((s) => startsWith(at, s)) && typeof key === 'string' && SECRET_KEY.test(key)) ||
    (w.o.secretPaths ?? []).some((s) => samepath(at, s))
  if (HAS_REFERENCE.test(v)) {
    w.tasks.push(async () => {
      const resolved = await resolveString(v, at, w.o, w.found, w.budget)
      ;(parent as Record<string | number, unknown>)[key] = resolved
    })
  } else if (credential && !v.includes('{')) {
    // A templated credential (`pw-{device}`) is registered per run when it is rendered.
    w.found.push(v)
  }
  return v
}

/**
 * Replaces `${env:NAME}` and `${file:PATH}` references in a raw scenario under the sender's
 * policy. Registers nothing: the caller registers `secrets` for the run once it validated, so a
 * refused request leaves no trace in the daemon. Every resolved value is a secret; of the
 * literals, only credentials are (`auth.password`, `tls.key`, fields plugins mark secret).
 */
export async function resolveReferences(raw: unknown, o: ReferenceOptions): Promise<ResolvedReferences> {
  const w: Walk = { o, found: [], tasks: [], budget: { references: 0, bytes: 0 } }
  const value = walk(raw, [], w)
  for (const task of w.tasks) await task()
  return { value, secrets: w.found }
}
