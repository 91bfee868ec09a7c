import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

/** An installed package that declares itself an iotload broker plugin. */
export interface PluginPackage {
  /** Name scenarios use (`broker.plugin`): `iotload.name`, else the package name less scope and `broker-`. */
  name: string
  package: string
  version: string
  /** Package directory. */
  dir: string
  /** Module to import, relative to `dir`. */
  entry: string
}

interface PackageJson {
  name?: string
  version?: string
  main?: string
  exports?: unknown
  iotload?: { plugin?: unknown; name?: unknown }
}

/** `@acme/broker-redis` → `redis`; `iotload-broker-x` → `x`; `my-plugin` → `my-plugin`. */
export function shortPluginName(pkg: string): string {
  const base = pkg.startsWith('@') ? pkg.slice(pkg.indexOf('/') + 1) : pkg
  return base.replace(/^(iotload-)?broker-/, '') || base
}

/** The `.` export for `import` (conditions `import`, `node`, `default`), else `main`, else index.js. */
export function entryOf(manifest: PackageJson): string {
  let target: unknown = manifest.exports
  if (target !== null && typeof target === 'object' && !Array.isArray(target) && '.' in target)
    target = (target as Record<string, unknown>)['.']
  for (let depth = 0; target !== null && typeof target === 'object' && depth < 5; depth++) {
    const conditions = target as Record<string, unknown>
    target = conditions.import ?? conditions.node ?? conditions.default
  }
  if (typeof target === 'string') return target
  return manifest.main ?? 'index.js'
}

/** Reads `dir/package.json`; undefined unless it declares `"iotload": { "plugin": "broker" }`. */
export function readPluginPackage(dir: string): PluginPackage | undefined {
  let manifest: PackageJson
  try {
    manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as PackageJson
  } catch {
    return undefined
  }
  if (manifest.iotload?.plugin !== 'broker' || typeof manifest.name !== 'string') return undefined
  const declared = manifest.iotload.name
  return {
    name: typeof declared === 'string' && declared ? declared : shortPluginName(manifest.name),
    package: manifest.name,
    version: manifest.version ?? '0.0.0',
    dir,
    entry: entryOf(manifest),
  }
}

/** Every broker plugin installed in a plugin directory's node_modules (scoped ones included). */
export function scanPluginDir(pluginDir: string): PluginPackage[] {
  const modules = join(pluginDir, 'node_modules')
  if (!existsSync(modules)) return []
  const dirs: string[] = []
  for (const entry of readdirSync(modules).sort()) {
    if (entry.startsWith('.')) continue
    if (entry.startsWith('@')) {
      for (const sub of readdirSync(join(modules, entry)).sort()) dirs.push(join(modules, entry, sub))
    } else dirs.push(join(modules, entry))
  }
  return dirs.map(readPluginPackage).filter((p): p is PluginPackage => p !== undefined)
}

/** The plugin a scenario names, by its short name or its package name. */
export function findPluginPackage(pluginDir: string, name: string): PluginPackage | undefined {
  return scanPluginDir(pluginDir).find((p) => p.name === name || p.package === name)
}
