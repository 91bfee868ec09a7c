import { ConfigError } from '@iotload/sdk'

/** A short plugin name as scenarios use it: `mqtt` → @iotload/broker-mqtt. */
const SHORT = /^[a-z0-9][a-z0-9-]{0,63}$/
/** The package scope the daemon installs and loads without an allowlist entry. */
const SCOPED = /^@iotload\/broker-[a-z0-9][a-z0-9-]{0,63}$/
/** npm package names in general (scoped or not), without a version or a path. */
const PACKAGE = /^(@[a-z0-9][a-z0-9._-]*\/)?[a-z0-9][a-z0-9._-]{0,213}$/
/** A version or range after `@`: semver characters only, so no `file:`, `git+…` or URLs. */
const VERSION = /^[0-9A-Za-z.^~<>=|*+ -]{1,64}$/

/**
 * Whether a scenario may load this plugin when it arrives over HTTP. The CLI accepts paths and
 * any package; the daemon does not, since importing a module runs its code.
 */
export function isAllowedPluginName(name: string, allow: readonly string[] = []): boolean {
  return SHORT.test(name) || SCOPED.test(name) || allow.includes(name)
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

/** A package spec the installer may hand to npm: `{ pkg, version? }`. */
export interface InstallSpec {
  pkg: string
  version?: string
}

/**
 * Parses `kafka`, `@iotload/broker-kafka`, `@iotload/broker-kafka@1.2.0` or an allowlisted
 * package into an install spec; throws ConfigError (path `name`) for anything else.
 */
export function parseInstallName(name: string, allow: readonly string[] = []): InstallSpec {
  const at = name.lastIndexOf('@')
  const [pkg, version] = at > 0 ? [name.slice(0, at), name.slice(at + 1)] : [name, undefined]
  if (version !== undefined && !VERSION.test(version))
    throw new ConfigError(
      'name',
      'the version must be a semver version or range (no URLs, paths or tags with ":")',
    )
  const full = allow.includes(pkg) || !SHORT.test(pkg) ? pkg : `@iotload/broker-${pkg}`
  if (!(SCOPED.test(full) || (PACKAGE.test(full) && allow.includes(full))))
    throw new ConfigError(
      'name',
      'only @iotload/broker-* packages (or a short name like kafka) and packages on the daemon --plugin-allow list can be installed',
    )
  return version === undefined ? { pkg: full } : { pkg: full, version }
}
