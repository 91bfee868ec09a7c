import { type BrokerPlugin, ConfigError } from '@iotload/sdk'
import { loadPlugin } from '../plugins/loader.ts'
import type { TrustPolicy } from './trust-policy.ts'

/** A short plugin name as scenarios use it: `mqtt` → @iotload/broker-mqtt. */
export const SHORT_PLUGIN_NAME = /^[a-z0-9][a-z0-9-]{0,63}$/
/** The package scope the daemon installs and loads without an allowlist entry. */
export const SCOPED_PLUGIN_PACKAGE = /^@iotload\/broker-[a-z0-9][a-z0-9-]{0,63}$/

/**
 * Whether a scenario may load this plugin when it arrives over HTTP or from a cluster's Redis.
 * The CLI accepts paths and any package; the daemon does not, since importing a module runs its code.
 */
export function isAllowedPluginName(name: string, allow: readonly string[] = []): boolean {
  return SHORT_PLUGIN_NAME.test(name) || SCOPED_PLUGIN_PACKAGE.test(name) || allow.includes(name)
}

/** Throws ConfigError unless every `plugin:` of a raw scenario is an allowed name. */
export function checkScenarioPlugins(raw: unknown, allow: readonly string[] = []): void {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return
  const r = raw as Record<string, unknown>
  const check = (section: unknown, path: string) => {
    if (section === null || typeof section !== 'object' || Array.isArray(section)) return
    const name = (section as Record<string, unknown>).plugin
    if (name === undefined) return
    if (typeof name !== 'string' || !isAllowedPluginName(name, allow))
      throw new ConfigError(
        path,
        'the daemon loads plugins by short name (mqtt), as @iotload/broker-<name>, or from its --plugin-allow list; paths are refused',
      )
  }
  check(r.broker, 'broker.plugin')
  const bridge = r.bridge
  if (bridge !== null && typeof bridge === 'object' && !Array.isArray(bridge))
    check((bridge as Record<string, unknown>).broker, 'bridge.broker.plugin')
}

/**
 * Loads the plugin a scenario names, checking the name under the sender's policy right where it
 * is used: a remote scenario never makes the daemon import a path or an unlisted package.
 */
export async function loadScenarioPlugin(
  name: unknown,
  path: string,
  policy: TrustPolicy,
): Promise<BrokerPlugin> {
  if (typeof name !== 'string' || name === '') throw new ConfigError(path, 'required (string), e.g. mqtt')
  if (policy.origin === 'remote' && !isAllowedPluginName(name, policy.allowPlugins))
    throw new ConfigError(
      path,
      'the daemon loads plugins by short name (mqtt), as @iotload/broker-<name>, or from its --plugin-allow list; paths are refused',
    )
  return loadPlugin(name)
}
