import { PluginLoadError } from './errors.ts'

/**
 * Imports a plugin's client library lazily, so that a missing optional dependency fails with
 * an actionable message instead of a bare ERR_MODULE_NOT_FOUND at daemon start.
 *
 * @example const mqtt = await importLib(() => import('mqtt'), 'mqtt', '@iotload/broker-mqtt')
 */
export async function importLib<T>(load: () => Promise<T>, lib: string, pluginPackage: string): Promise<T> {
  try {
    return await load()
  } catch (err) {
    throw new PluginLoadError(`client library '${lib}' is not installed: run npm install ${pluginPackage}`, {
      cause: err,
      source: pluginPackage.replace(/^@iotload\//, ''),
    })
  }
}
