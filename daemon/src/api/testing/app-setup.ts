import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createLogger } from '../../log/logger.ts'
import { type NpmRunner, PluginInstaller } from '../../service/plugin-installer.ts'
import { RunManager } from '../../service/run-manager.ts'
import { SqliteStore } from '../../store/sqlite-store.ts'
import { createApp } from '../app.ts'

/** A logger that writes nothing. */
export const quiet = createLogger({ write: () => {} })
/** An npm stand-in that answers with `code` and `stderr`; a successful install leaves the package behind. */
export const npmSays =
  (code: number, stderr: string, stdout = 'added 1 package in 1s'): NpmRunner =>
  async (args) => {
    // A successful install leaves the package in the plugin directory, as npm would.
    const prefix = args[args.indexOf('--prefix') + 1]
    const pkg = args.at(-1)
    if (code === 0 && args[0] === 'install' && prefix && pkg) {
      const name = pkg.slice(0, pkg.lastIndexOf('@') > 0 ? pkg.lastIndexOf('@') : undefined)
      mkdirSync(join(prefix, 'node_modules', name), { recursive: true })
      writeFileSync(
        join(prefix, 'node_modules', name, 'package.json'),
        JSON.stringify({ name, version: '1.2.3', iotload: { plugin: 'broker' } }),
      )
    }
    return { code, stdout, stderr, timedOut: false }
  }
/** A fresh plugin directory per installer, so no test touches the real one. */
export const pluginDir = () => mkdtempSync(join(tmpdir(), 'iotload-plugins-'))

/** The REST app in process over an in-memory store, with an installer that never runs the real npm. */
export function setup(
  options: { maxRuns?: number; token?: string; npm?: NpmRunner; allowPluginInstall?: boolean } = {},
) {
  const store = new SqliteStore(':memory:')
  const manager = new RunManager({ store, logger: quiet, maxRuns: options.maxRuns ?? 0 })
  const app = createApp({
    manager,
    logger: quiet,
    installer: new PluginInstaller({
      prefix: pluginDir(),
      npm: options.npm ?? npmSays(1, 'npm error code E404\nnpm error 404 Not Found'),
    }),
    ...(options.token ? { token: options.token } : {}),
    allowPluginInstall: options.allowPluginInstall ?? true,
  })
  return { store, manager, app }
}

/** A JSON POST request. */
export const json = (body: unknown) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
})
