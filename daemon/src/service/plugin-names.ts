import { ConfigError } from '@iotload/sdk'
import {
  checkScenarioPlugins,
  isAllowedPluginName,
  SCOPED_PLUGIN_PACKAGE,
  SHORT_PLUGIN_NAME,
} from '../scenario/plugin-policy.ts'

/** npm package names in general (scoped or not), without a version or a path. */
const PACKAGE = /^(@[a-z0-9][a-z0-9._-]*\/)?[a-z0-9][a-z0-9._-]{0,213}$/
/** A version or range after `@`: semver characters only, so no `file:`, `git+…` or URLs. */
const VERSION = /^[0-9A-Za-z.^~<>=|*+ -]{1,64}$/
const SHORT = SHORT_PLUGIN_NAME
const SCOPED = SCOPED_PLUGIN_PACKAGE

export { checkScenarioPlugins, isAllowedPluginName }

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
