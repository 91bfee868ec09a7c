import { readdir, readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import type { PluginCapabilities } from '@iotload/sdk'
import { loadPlugin } from './loader.ts'

/** An installed broker plugin, as `iotload plugins` and `GET /v1/plugins` show it. */
export interface InstalledPlugin {
  name: string
  package: string
  version: string
  capabilities?: PluginCapabilities
  error?: string
}

async function scopeDirs(): Promise<string[]> {
  const dirs = new Set<string>()
  // Every node_modules/@iotload from here up: where `import('@iotload/broker-x')` resolves from.
  for (let d = import.meta.dirname; ; d = dirname(d)) {
    dirs.add(join(d, 'node_modules', '@iotload'))
    if (dirname(d) === d) break
  }
  dirs.add(join(process.cwd(), 'node_modules', '@iotload'))
  return [...dirs]
}

/** Lists `@iotload/broker-*` packages installed next to the daemon or in the working directory. */
export async function listInstalledPlugins(): Promise<InstalledPlugin[]> {
  const found = new Map<string, InstalledPlugin>()
  for (const dir of await scopeDirs()) {
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
      const info: InstalledPlugin = {
        name: entry.slice('broker-'.length),
        package: pkg,
        version: manifest.version,
      }
      try {
        const plugin = await loadPlugin(info.name)
        info.name = plugin.name
        info.capabilities = plugin.capabilities
      } catch (err) {
        info.error = (err as Error).message
      }
      found.set(pkg, info)
    }
  }
  return [...found.values()]
}
