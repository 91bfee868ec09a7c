import { ConfigError } from '@iotload/sdk'
import { readAllowedFile } from './allowed-files.ts'
import { SECRET_KEY } from './secrets.ts'
import { envAllowed, SECRET_ENV_PREFIX, type TrustPolicy } from './trust-policy.ts'

const REFERENCE = /\$\{(env|file):([^}]+)\}/g
const HAS_REFERENCE = /\$\{(env|file):/

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

function referenceAllowedAt(path: string[], o: ReferenceOptions): boolean {
  if (o.policy.origin === 'local') return true
  return (
    CREDENTIAL_SECTIONS.some((s) => startsWith(path, s)) ||
    (o.secretPaths ?? []).some((s) => samepath(path, s))
  )
}

function show(path: string[]): string {
  return path.join('.').replace(/\.(\d+)(?=\.|$)/g, '[$1]')
}

async function resolveString(
  value: string,
  path: string[],
  o: ReferenceOptions,
  found: string[],
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
    found.push(resolved)
    out += resolved
    last = m.index + m[0].length
  }
  return out + value.slice(last)
}

type Task = () => Promise<void>

/** Copies the scenario synchronously; strings with references become tasks, resolved afterwards. */
function walk(raw: unknown, path: string[], o: ReferenceOptions, found: string[], tasks: Task[]): unknown {
  if (typeof raw === 'string') return raw
  if (Array.isArray(raw)) {
    const out: unknown[] = []
    for (const [i, v] of raw.entries()) out.push(child(out, v, i, path, o, found, tasks))
    return out
  }
  if (raw !== null && typeof raw === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(raw)) out[k] = child(out, v, k, path, o, found, tasks)
    return out
  }
  return raw
}

function child(
  parent: Record<string, unknown> | unknown[],
  v: unknown,
  key: string | number,
  path: string[],
  o: ReferenceOptions,
  found: string[],
  tasks: Task[],
): unknown {
  const at = path.concat(String(key))
  const secretKey = typeof key === 'string' && SECRET_KEY.test(key)
  if (typeof v !== 'string') return walk(v, at, o, found, tasks)
  if (HAS_REFERENCE.test(v)) {
    tasks.push(async () => {
      const resolved = await resolveString(v, at, o, found)
      ;(parent as Record<string | number, unknown>)[key] = resolved
      if (secretKey && !resolved.includes('{')) found.push(resolved)
    })
  } else if (secretKey && !v.includes('{')) {
    // A literal under a secret-looking key is a secret too; a templated one (`pw-{device}`) is
    // registered per device when it is rendered.
    found.push(v)
  }
  return v
}

/**
 * Replaces `${env:NAME}` and `${file:PATH}` references in a raw scenario under the sender's
 * policy. Registers nothing: the caller registers `secrets` for the run once it validated, so a
 * refused request leaves no trace in the daemon.
 */
export async function resolveReferences(raw: unknown, o: ReferenceOptions): Promise<ResolvedReferences> {
  const found: string[] = []
  const tasks: Task[] = []
  const value = walk(raw, [], o, found, tasks)
  for (const task of tasks) await task()
  return { value, secrets: found }
}
