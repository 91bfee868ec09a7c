/**
 * What a scenario may do depends on who sent it. The person at the CLI owns the machine: their
 * scenario may read any file, any environment variable and load any module. A scenario that
 * arrives over HTTP (or is read from a cluster's Redis) is untrusted: it may name plugins only by
 * package name, read files and load code only inside directories the operator allowed at start,
 * use references only in credential fields, and stays within bounds the operator can raise.
 */

/** Upper bounds on what one scenario may ask of this process. Raised by daemon flags, never by a scenario. */
export interface ScenarioLimits {
  /** Fleet-wide sends per second. @default 5_000_000 */
  maxRate: number
  /** Devices, producer connections. @default 1_000_000 */
  maxDevices: number
  /** duration + warm-up + drain, ms. @default 7 days */
  maxRunTimeMs: number
  /** `producer.payloadSize`, bytes. @default 1 MiB */
  maxPayloadBytes: number
  /** `run.workers`: threads one run may start (each loads its plugins and clients). @default 64 */
  maxWorkers: number
}

/** The defaults of `ScenarioLimits`. */
export const DEFAULT_LIMITS: Readonly<ScenarioLimits> = Object.freeze({
  maxRate: 5_000_000,
  maxDevices: 1_000_000,
  maxRunTimeMs: 7 * 24 * 3_600_000,
  maxPayloadBytes: 1024 * 1024,
  maxWorkers: 64,
})

/** Longest scenario `name`, in characters (a fixed schema rule, not a limit). */
export const MAX_NAME_LENGTH = 200

/** Prefix of environment variables every untrusted scenario may read through `${env:…}`. */
export const SECRET_ENV_PREFIX = 'IOTLOAD_SECRET_'

/** Where a scenario came from, and so what it may do. */
export interface TrustPolicy {
  /** `local`: the CLI's operator (full access). `remote`: a REST request or a cluster's Redis. */
  origin: 'local' | 'remote'
  /** Packages a remote scenario may name as `plugin:` besides short names and @iotload/broker-*. */
  allowPlugins: readonly string[]
  /** Remote `bridge.transform.module` must lie inside (after resolving symlinks); refused when unset. */
  transformDir?: string | undefined
  /** Remote `${file:…}` references and TLS file paths must lie inside; refused when unset. */
  secretsDir?: string | undefined
  /** Variables a remote `${env:…}` may read besides those starting with IOTLOAD_SECRET_. */
  secretEnv: readonly string[]
  /** Allow a remote scenario's `exec` steps (fault commands). @default false */
  allowExec: boolean
  limits: ScenarioLimits
}

/** The CLI's policy: the operator owns the machine. Limits still apply (a typo must not mean 1e12 devices). */
export function localPolicy(limits: Partial<ScenarioLimits> = {}): TrustPolicy {
  return {
    origin: 'local',
    allowPlugins: [],
    secretEnv: [],
    allowExec: true,
    limits: { ...DEFAULT_LIMITS, ...limits },
  }
}

/** Options of `remotePolicy`: what the operator opened when starting the daemon. */
export interface RemotePolicyOptions {
  allowPlugins?: readonly string[]
  transformDir?: string | undefined
  secretsDir?: string | undefined
  secretEnv?: readonly string[]
  allowExec?: boolean
  limits?: Partial<ScenarioLimits>
}

/** The policy for scenarios from HTTP or Redis: nothing beyond what the operator allowed. */
export function remotePolicy(o: RemotePolicyOptions = {}): TrustPolicy {
  return {
    origin: 'remote',
    allowPlugins: o.allowPlugins ?? [],
    transformDir: o.transformDir,
    secretsDir: o.secretsDir,
    secretEnv: o.secretEnv ?? [],
    allowExec: o.allowExec ?? false,
    limits: { ...DEFAULT_LIMITS, ...o.limits },
  }
}

/** Whether a remote `${env:NAME}` may read NAME. */
export function envAllowed(policy: TrustPolicy, name: string): boolean {
  if (policy.origin === 'local') return true
  return name.startsWith(SECRET_ENV_PREFIX) || policy.secretEnv.includes(name)
}
