import { existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { homedir } from 'node:os'
import { dirname, join, resolve } from 'node:path'

/**
 * Where plugins installed from outside the repo live: `IOTLOAD_PLUGIN_DIR`, else
 * `$XDG_DATA_HOME/iotload/plugins` (~/.local/share/iotload/plugins), beside the results database.
 * It is an npm prefix: `package.json` plus `node_modules/`.
 */
export function defaultPluginDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.IOTLOAD_PLUGIN_DIR) return resolve(env.IOTLOAD_PLUGIN_DIR)
  const base = env.XDG_DATA_HOME || join(homedir(), '.local', 'share')
  return join(base, 'iotload', 'plugins')
}

/** The real directory of the `@iotload/sdk` this daemon runs with. */
export function hostSdkDir(): string {
  const entry = createRequire(import.meta.url).resolve('@iotload/sdk')
  for (let d = dirname(entry); dirname(d) !== d; d = dirname(d)) {
    const manifest = join(d, 'package.json')
    if (
      existsSync(manifest) &&
      (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === '@iotload/sdk'
    )
      return realpathSync(d)
  }
  throw new Error(`cannot find the package directory of @iotload/sdk (resolved ${entry})`)
}

interface DirManifest {
  name?: string
  private?: boolean
  description?: string
  dependencies?: Record<string, string>
}

/**
 * Creates the plugin directory's `package.json` (or brings it up to date). It depends on the
 * daemon's own `@iotload/sdk` by `file:` link, so a plugin's peer dependency on the sdk is met by
 * the very sdk the daemon runs, and npm never tries to fetch it from a registry.
 */
export function preparePluginDir(dir: string): void {
  mkdirSync(dir, { recursive: true })
  const path = join(dir, 'package.json')
  const manifest: DirManifest = existsSync(path)
    ? (JSON.parse(readFileSync(path, 'utf8')) as DirManifest)
    : {
        name: 'iotload-plugins',
        private: true,
        description:
          'Broker plugins installed by `iotload plugins install`; the daemon loads them from here.',
      }
  const sdk = `file:${hostSdkDir()}`
  if (manifest.dependencies?.['@iotload/sdk'] === sdk) return
  manifest.dependencies = { ...manifest.dependencies, '@iotload/sdk': sdk }
  writeFileSync(path, `${JSON.stringify(manifest, null, 2)}\n`)
}
