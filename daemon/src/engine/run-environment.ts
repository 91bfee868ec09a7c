import { existsSync, readFileSync } from 'node:fs'
import { arch, cpus, hostname, platform, release } from 'node:os'
import { dirname, join } from 'node:path'
import { packageFor } from '../plugins/loader.ts'
import { defaultPluginDir } from '../plugins/plugin-dir.ts'
import { findPluginPackage } from '../plugins/plugin-manifest.ts'

/** iotload's own version (the daemon package's). */
export const IOTLOAD_VERSION: string = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version

/** Where and with what a run executed, kept with its summary and shown in reports. */
export interface RunEnvironment {
  iotloadVersion: string
  /** Host name of the process that ran the run (the coordinator's, in a cluster). */
  host: string
  /** `node 20.19.0` or `bun 1.4.5`. */
  runtime: string
  /** `linux 6.1.0 x64` */
  os: string
  cpus: number
  /** Broker plugins the run loaded, with the package version found. */
  plugins: Array<{ name: string; package: string; version: string | null }>
}

/** The runtime executing this process. */
export function runtimeName(): string {
  const bun = (process.versions as Record<string, string | undefined>).bun
  return bun ? `bun ${bun}` : `node ${process.versions.node}`
}

/** The version in a package's package.json, from the plugin directory or beside the daemon. */
export function pluginVersion(name: string): { package: string; version: string | null } {
  try {
    const installed = findPluginPackage(defaultPluginDir(), name)
    if (installed) return { package: installed.package, version: installed.version }
  } catch {}
  const pkg = packageFor(name)
  for (let d = import.meta.dirname; ; d = dirname(d)) {
    const manifest = join(d, 'node_modules', pkg, 'package.json')
    if (existsSync(manifest)) {
      try {
        return {
          package: pkg,
          version: (JSON.parse(readFileSync(manifest, 'utf8')) as { version?: string }).version ?? null,
        }
      } catch {
        return { package: pkg, version: null }
      }
    }
    if (dirname(d) === d) return { package: pkg, version: null }
  }
}

/** The environment of a run that used `pluginNames` (duplicates are listed once). */
export function runEnvironment(pluginNames: readonly string[]): RunEnvironment {
  return {
    iotloadVersion: IOTLOAD_VERSION,
    host: hostname(),
    runtime: runtimeName(),
    os: `${platform()} ${release()} ${arch()}`,
    cpus: cpus().length,
    plugins: [...new Set(pluginNames)].map((name) => ({ name, ...pluginVersion(name) })),
  }
}
