import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { type BrokerPlugin, isBrokerPlugin, PluginLoadError } from '@iotload/sdk'
import { defaultPluginDir } from './plugin-dir.ts'
import { findPluginPackage } from './plugin-manifest.ts'

/** Package that provides a plugin name: `mqtt` → `@iotload/broker-mqtt`; package names pass through. */
export function packageFor(name: string): string {
  if (name.startsWith('@') || name.startsWith('.') || name.startsWith('/')) return name
  return `@iotload/broker-${name}`
}

const cache = new Map<string, Promise<BrokerPlugin>>()

/** Imports a module specifier, turning "not installed" into an actionable PluginLoadError. */
async function importModule(specifier: string, name: string, pkg: string): Promise<Record<string, unknown>> {
  try {
    return (await import(specifier)) as Record<string, unknown>
  } catch (err) {
    const code = (err as { code?: string }).code
    const message = String((err as Error).message)
    if (
      (code === 'ERR_MODULE_NOT_FOUND' || /Cannot find (package|module)/.test(message)) &&
      message.includes(pkg)
    ) {
      throw new PluginLoadError(
        `unknown broker plugin '${name}': package ${pkg} is not installed (iotload plugins install ${pkg}, or npm install ${pkg} beside the daemon; 'iotload plugins' lists installed ones)`,
        { source: 'plugins', cause: err },
      )
    }
    throw new PluginLoadError(`plugin package ${pkg} failed to load: ${message}`, {
      source: 'plugins',
      cause: err,
    })
  }
}

/**
 * Finds and imports a plugin: first a package in the plugin directory (IOTLOAD_PLUGIN_DIR) whose
 * package.json declares `"iotload": { "plugin": "broker" }`, matched by short or package name;
 * else a package resolvable from the daemon (`mqtt` → `@iotload/broker-mqtt`, or a path on the CLI).
 */
async function importPlugin(name: string): Promise<BrokerPlugin> {
  const installed =
    name.startsWith('.') || name.startsWith('/') ? undefined : findPluginPackage(defaultPluginDir(), name)
  const pkg = installed?.package ?? packageFor(name)
  const mod = installed
    ? await importModule(pathToFileURL(join(installed.dir, installed.entry)).href, name, pkg)
    : await importModule(pkg, name, pkg)
  const plugin = mod.default
  if (!isBrokerPlugin(plugin)) {
    throw new PluginLoadError(
      `package ${pkg} does not default-export a broker plugin (definePlugin({...}))`,
      {
        source: 'plugins',
      },
    )
  }
  return plugin
}

/** Loads a broker plugin once per process, by name or package. */
export function loadPlugin(name: string): Promise<BrokerPlugin> {
  let p = cache.get(name)
  if (!p) {
    p = importPlugin(name)
    cache.set(name, p)
    p.catch(() => cache.delete(name))
  }
  return p
}

/**
 * Drops cached lookups after an install or removal, so the next run resolves afresh. (A module
 * already imported stays in the runtime's module cache: upgrading a plugin a run has used needs a
 * restart to take effect.)
 */
export function forgetPlugins(): void {
  cache.clear()
}
