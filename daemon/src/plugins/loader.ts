import { type BrokerPlugin, isBrokerPlugin, PluginLoadError } from '@iotload/sdk'

/** Package that provides a plugin name: `mqtt` → `@iotload/broker-mqtt`; package names pass through. */
export function packageFor(name: string): string {
  if (name.startsWith('@') || name.startsWith('.') || name.startsWith('/')) return name
  return `@iotload/broker-${name}`
}

const cache = new Map<string, Promise<BrokerPlugin>>()

async function importPlugin(name: string): Promise<BrokerPlugin> {
  const pkg = packageFor(name)
  let mod: Record<string, unknown>
  try {
    mod = (await import(pkg)) as Record<string, unknown>
  } catch (err) {
    const code = (err as { code?: string }).code
    if (code === 'ERR_MODULE_NOT_FOUND' && String((err as Error).message).includes(pkg)) {
      throw new PluginLoadError(
        `unknown broker plugin '${name}': package ${pkg} is not installed (npm install ${pkg}; 'iotload plugins' lists installed ones)`,
        {
          source: 'plugins',
          cause: err,
        },
      )
    }
    throw new PluginLoadError(`plugin package ${pkg} failed to load: ${(err as Error).message}`, {
      source: 'plugins',
      cause: err,
    })
  }
  const plugin = mod.default
  if (!isBrokerPlugin(plugin)) {
    throw new PluginLoadError(
      `package ${pkg} does not default-export a broker plugin (definePlugin({...}))`,
      { source: 'plugins' },
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
