import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { secrets } from '../scenario/secrets.ts'
import { ServiceError } from './errors.ts'
import { type InstallSpec, parseInstallName } from './plugin-names.ts'

/** Outcome of one npm invocation. */
export interface NpmResult {
  code: number | null
  stdout: string
  stderr: string
  timedOut: boolean
}

/** Runs npm with the given arguments (no shell). Injectable so tests need not install for real. */
export type NpmRunner = (args: string[], options: { cwd: string; timeoutMs: number }) => Promise<NpmResult>

/** Options for `PluginInstaller`. */
export interface PluginInstallerOptions {
  /** Directory whose node_modules receives the package (`npm install --prefix`). @default defaultPluginPrefix() */
  prefix?: string
  /** Registry URL. @default npm's own configuration */
  registry?: string
  /** Packages installable besides @iotload/broker-*. @default [] */
  allow?: string[]
  /** @default spawns `npm` */
  npm?: NpmRunner
  /** @default 180000 */
  timeoutMs?: number
  /** npm `--fetch-retries`; low so an unreachable registry is reported within seconds. @default 1 */
  fetchRetries?: number
}

/** What an install did. */
export interface InstallResult {
  package: string
  requested: string
  /** npm's own last output line, e.g. `added 3 packages in 2s`. */
  npm: string
}

const UNREACHABLE =
  /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNRESET|ENETUNREACH|EHOSTUNREACH|network|socket hang up/i
const NOT_FOUND = /E404|404 Not Found|is not in this registry|No matching version|ETARGET/i

/**
 * The directory whose node_modules the daemon resolves plugins from (the nearest ancestor of this
 * file holding node_modules/@iotload/sdk), so an installed plugin is importable without a restart;
 * the working directory when there is none.
 */
export function defaultPluginPrefix(): string {
  for (let d = import.meta.dirname; ; d = dirname(d)) {
    if (existsSync(join(d, 'node_modules', '@iotload', 'sdk'))) return d
    if (dirname(d) === d) return process.cwd()
  }
}

/** Spawns the real npm. */
export const spawnNpm: NpmRunner = (args, { cwd, timeoutMs }) =>
  new Promise((resolve) => {
    const child = spawn('npm', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: process.env })
    let stdout = ''
    let stderr = ''
    let timedOut = false
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      if (stdout.length < 64_000) stdout += d
    })
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < 64_000) stderr += d
    })
    const timer = setTimeout(() => {
      timedOut = true
      child.kill('SIGTERM')
    }, timeoutMs)
    child.on('error', (err) => {
      clearTimeout(timer)
      resolve({ code: null, stdout, stderr: `${stderr}${err.message}`, timedOut })
    })
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr, timedOut })
    })
  })

function lastLines(text: string, n: number): string {
  return secrets
    .scrub(
      text
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l && !/^npm (error|ERR!) (A complete log|\s*$)/.test(l))
        .slice(-n)
        .join(' | '),
    )
    .slice(0, 600)
}

/**
 * Installs broker plugins with npm, one at a time, and says plainly why an install failed:
 * registry unreachable, package unknown, timeout, or npm's own error.
 */
export class PluginInstaller {
  private busy = false
  private readonly npm: NpmRunner
  /** Where packages are installed. */
  readonly prefix: string

  constructor(private readonly options: PluginInstallerOptions = {}) {
    this.npm = options.npm ?? spawnNpm
    this.prefix = options.prefix ?? defaultPluginPrefix()
  }

  /** Validates the name (ConfigError, path `name`) and runs `npm install`. */
  async install(name: string): Promise<InstallResult> {
    const spec: InstallSpec = parseInstallName(name, this.options.allow ?? [])
    if (this.busy)
      throw new ServiceError(
        'conflict',
        'INSTALL_IN_PROGRESS',
        'another plugin install is running; retry when it ends',
      )
    this.busy = true
    try {
      const target = spec.version ? `${spec.pkg}@${spec.version}` : spec.pkg
      const args = [
        'install',
        '--no-audit',
        '--no-fund',
        '--no-progress',
        `--fetch-retries=${this.options.fetchRetries ?? 1}`,
        '--prefix',
        this.prefix,
        ...(this.options.registry ? ['--registry', this.options.registry] : []),
        '--',
        target,
      ]
      const res = await this.npm(args, {
        cwd: this.prefix,
        timeoutMs: this.options.timeoutMs ?? 180_000,
      })
      const registry = this.options.registry ?? 'the configured npm registry'
      if (res.timedOut)
        throw new ServiceError(
          'upstream-timeout',
          'NPM_TIMEOUT',
          `npm install ${target} did not finish in time; nothing is guaranteed installed`,
        )
      if (res.code !== 0) {
        const detail = lastLines(res.stderr || res.stdout, 3)
        if (NOT_FOUND.test(res.stderr))
          throw new ServiceError(
            'not-found',
            'PACKAGE_NOT_FOUND',
            `${target} was not found on ${registry}: ${detail}`,
          )
        if (UNREACHABLE.test(res.stderr))
          throw new ServiceError(
            'upstream',
            'REGISTRY_UNREACHABLE',
            `npm could not reach ${registry}, so ${target} was not installed: ${detail}`,
          )
        throw new ServiceError(
          'upstream',
          'NPM_FAILED',
          `npm install ${target} failed (exit ${res.code}): ${detail}`,
        )
      }
      return { package: spec.pkg, requested: target, npm: lastLines(res.stdout, 1) }
    } finally {
      this.busy = false
    }
  }
}
