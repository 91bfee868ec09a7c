import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { ConfigError } from '@iotload/sdk'
import { forgetPlugins } from '../plugins/loader.ts'
import { defaultPluginDir, preparePluginDir } from '../plugins/plugin-dir.ts'
import { findPluginPackage, readPluginPackage } from '../plugins/plugin-manifest.ts'
import { ServiceError } from './errors.ts'
import { checkNpm, lastLines, type NpmRunner, spawnNpm } from './npm-runner.ts'
import { parseInstallName } from './plugin-names.ts'

export { type NpmResult, type NpmRunner, spawnNpm } from './npm-runner.ts'

/** Options for `PluginInstaller`. */
export interface PluginInstallerOptions {
  /** The plugin directory (an npm prefix) installs go to and the daemon loads from. @default defaultPluginDir() */
  prefix?: string
  /** Registry URL. @default npm's own configuration */
  registry?: string
  /** Packages `install()` (the REST route) accepts besides @iotload/broker-*. @default [] */
  allow?: string[]
  /** @default spawns `npm` */
  npm?: NpmRunner
  /** @default 180000 */
  timeoutMs?: number
  /** npm `--fetch-retries`; low so an unreachable registry is reported within seconds. @default 1 */
  fetchRetries?: number
  /** Pass `--ignore-scripts` (installs on a request's behalf run no package scripts). @default false */
  ignoreScripts?: boolean
}

/** What an install did. */
export interface InstallResult {
  package: string
  /** The name scenarios use (`broker.plugin`). */
  name?: string
  version?: string
  requested: string
  /** npm's own last output line, e.g. `added 3 packages in 2s`. */
  npm: string
}

/**
 * The directory the daemon resolves plugins from.
 * @deprecated use `defaultPluginDir` (IOTLOAD_PLUGIN_DIR, else under the data directory)
 */
export const defaultPluginPrefix = (): string => defaultPluginDir()

/** Name and version inside a package tarball made by `npm pack` (`package/package.json`). */
function tarballManifest(file: string): { name: string; version: string } {
  const text = execFileSync('tar', ['-xzOf', file, 'package/package.json'], { encoding: 'utf8' })
  return JSON.parse(text) as { name: string; version: string }
}

/** `@scope/name@^1` → `@scope/name`; `name@latest` → `name`. */
function nameOfSpec(spec: string): string {
  const at = spec.lastIndexOf('@')
  return at > 0 ? spec.slice(0, at) : spec
}

/**
 * Installs broker plugins into the plugin directory with npm, one at a time, and says plainly why
 * an install failed. `install` serves the REST route (names only, allow-listed); `installSpec`
 * serves the CLI, whose user owns the machine (tarballs and directories too).
 */
export class PluginInstaller {
  private busy = false
  private readonly npm: NpmRunner
  /** The plugin directory. */
  readonly prefix: string

  constructor(private readonly options: PluginInstallerOptions = {}) {
    this.npm = options.npm ?? spawnNpm
    this.prefix = resolve(options.prefix ?? defaultPluginDir())
  }

  /** REST: validates the name (ConfigError, path `name`) against the allow-list, then installs. */
  async install(name: string): Promise<InstallResult> {
    const spec = parseInstallName(name, this.options.allow ?? [])
    return this.exclusive(() =>
      this.npmInstall(spec.version ? `${spec.pkg}@${spec.version}` : spec.pkg, spec.pkg),
    )
  }

  /** CLI: an npm name (optionally `@version`), a `.tgz` made by `npm pack`, or a package directory. */
  async installSpec(spec: string): Promise<InstallResult> {
    return this.exclusive(async () => {
      const path = resolve(spec)
      if (!existsSync(path)) return this.npmInstall(spec, nameOfSpec(spec))
      if (statSync(path).isFile()) return this.npmInstall(path, tarballManifest(path).name, spec)
      // A directory is packed first, so the plugin directory holds a copy, not a link to a work tree.
      const out = mkdtempSync(join(tmpdir(), 'iotload-pack-'))
      try {
        const res = await this.npm(['pack', path, '--pack-destination', out, '--json'], {
          cwd: this.prefix,
          timeoutMs: this.options.timeoutMs ?? 180_000,
        })
        checkNpm(res, `pack ${spec}`, 'the local directory')
        const [packed] = JSON.parse(res.stdout) as Array<{ filename: string; name: string }>
        if (!packed) throw new ServiceError('upstream', 'NPM_FAILED', `npm pack ${spec} produced nothing`)
        return await this.npmInstall(join(out, packed.filename), packed.name, spec)
      } finally {
        rmSync(out, { recursive: true, force: true })
      }
    })
  }

  /** Uninstalls a plugin installed in the plugin directory, by short or package name. */
  async remove(name: string): Promise<{ package: string; npm: string }> {
    return this.exclusive(async () => {
      const found = findPluginPackage(this.prefix, name)
      if (!found)
        throw new ServiceError(
          'not-found',
          'PLUGIN_NOT_INSTALLED',
          `no plugin '${name}' is installed in ${this.prefix}`,
        )
      const npm = await this.uninstall(found.package)
      return { package: found.package, npm }
    })
  }

  private async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    if (this.busy)
      throw new ServiceError(
        'conflict',
        'INSTALL_IN_PROGRESS',
        'another plugin install is running; retry when it ends',
      )
    this.busy = true
    try {
      return await fn()
    } finally {
      this.busy = false
      forgetPlugins()
    }
  }

  private npmArgs(command: 'install' | 'uninstall', target: string): string[] {
    return [
      command,
      '--no-audit',
      '--no-fund',
      '--no-progress',
      `--fetch-retries=${this.options.fetchRetries ?? 1}`,
      '--prefix',
      this.prefix,
      // A package installed on a request's behalf never runs its install scripts.
      ...(this.options.ignoreScripts ? ['--ignore-scripts'] : []),
      ...(this.options.registry ? ['--registry', this.options.registry] : []),
      '--',
      target,
    ]
  }

  private async npmInstall(target: string, pkg: string, requested = target): Promise<InstallResult> {
    preparePluginDir(this.prefix)
    const res = await this.npm(this.npmArgs('install', target), {
      cwd: this.prefix,
      timeoutMs: this.options.timeoutMs ?? 180_000,
    })
    checkNpm(res, `install ${requested}`, this.options.registry ?? 'the configured npm registry')
    const installed = readPluginPackage(join(this.prefix, 'node_modules', pkg))
    if (!installed) {
      await this.uninstall(pkg).catch(() => {})
      throw new ConfigError(
        'name',
        `${pkg} is not an iotload broker plugin (its package.json lacks "iotload": { "plugin": "broker" }); it was removed again`,
      )
    }
    return {
      package: pkg,
      name: installed.name,
      version: installed.version,
      requested,
      npm: lastLines(res.stdout, 1),
    }
  }

  private async uninstall(pkg: string): Promise<string> {
    const res = await this.npm(this.npmArgs('uninstall', pkg), {
      cwd: this.prefix,
      timeoutMs: this.options.timeoutMs ?? 180_000,
    })
    checkNpm(res, `uninstall ${pkg}`, this.options.registry ?? 'the configured npm registry')
    return lastLines(res.stdout, 1)
  }
}
