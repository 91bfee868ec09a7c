import { readdir, readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import type { PluginCapabilities } from '@iotload/sdk'
import { loadPlugin } from './loader.ts'
import { defaultPluginDir } from './plugin-dir.ts'
import { scanPluginDir } from './plugin-manifest.ts'

/** An installed broker plugin, as `iotload plugins` and `GET /v1/plugins` show it. */
export interface InstalledPlugin {
  name: string
  package: string
  version: string
  /** `plugin-dir`: installed with `iotload plugins install`; `bundled`: shipped beside the daemon. */
  source?: 'plugin-dir' | 'bundled'
  capabilities?: PluginCapabilities
  error?: string
}

function scopeDirs(): string[] {
  const dirs = new Set<string>()
  // Every node_modules/@iotload from here up: where `import('@iotload/broker-x')` resolves from.
  for (let d = import.meta.dirname; ; d = dirname(d)) {
    dirs.add(join(d, 'node_modules', '@iotload'))
    if (dirname(d) === d) break
  }
  dirs.add(join(process.cwd(), 'node_modules', '@iotload'))
  return [...dirs]
}

async function bundled(): Promise<InstalledPlugin[]> {
  const found = new Map<string, InstalledPlugin>()
  for (const dir of scopeDirs()) {
    let entries: string[]
    try {
      entries = await readdir(dir)
    } catch {
      continue
    }
    for (const entry of entries.filter((e) => e.startsWith('broker-')).sort()) {
      const pkg = `@iotload/${entry}`
      if (found.has(pkg)) continue
      const manifest = JSON.parse(await readFile(join(dir, entry, 'package.json'), 'utf8')) as {
        version: string
      }
      found.set(pkg, {
        name: entry.slice('broker-'.length),
        package: pkg,
        version: manifest.version,
        source: 'bundled',
      })
    }
  }
  return [...found.values()]
}

/**
 * Every broker plugin the daemon can load: those installed in the plugin directory
 * (IOTLOAD_PLUGIN_DIR; any package declaring `"iotload": { "plugin": "broker" }`), then the
 * `@iotload/broker-*` packages beside the daemon that no installed one shadows. Each is loaded to
 * report its capabilities; a plugin that fails to load is listed with its error.
 */
export async function listInstalledPlugins(pluginDir = defaultPluginDir()): Promise<InstalledPlugin[]> {
  const installed: InstalledPlugin[] = scanPluginDir(pluginDir).map((p) => ({
    name: p.name,
    package: p.package,
    version: p.version,
    source: 'plugin-dir',
  }))
  const shadowed = new Set(installed.flatMap((p) => [p.name, p.package]))
  const all = [
    ...installed,
    ...(await bundled()).filter((p) => !shadowed.has(p.name) && !shadowed.has(p.package)),
  ]
  for (const info of all) {
    try {
      const plugin = await loadPlugin(info.source === 'plugin-dir' ? info.package : info.name)
      // An installed plugin keeps the name scenarios find it by; a bundled one reports its own.
      if (info.source === 'bundled') info.name = plugin.name
      info.capabilities = plugin.capabilities
    } catch (err) {
      info.error = (err as Error).message
    }
  }
  return all
}
