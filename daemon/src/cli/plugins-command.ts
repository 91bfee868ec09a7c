import { listInstalledPlugins } from '../plugins/list-plugins.ts'
import { defaultPluginDir } from '../plugins/plugin-dir.ts'
import { ServiceError } from '../service/errors.ts'
import { PluginInstaller } from '../service/plugin-installer.ts'
import { EXIT } from './exit-codes.ts'
import { reportStartupError } from './run-command.ts'

/** Usage lines of `iotload plugins`, for the CLI's help text. */
export const PLUGINS_USAGE = `  iotload plugins                    installed broker plugins: name, package@version, capabilities
  iotload plugins install <npm-name[@version]|file.tgz|directory>
                                     install into the plugin directory (IOTLOAD_PLUGIN_DIR, default
                                     ~/.local/share/iotload/plugins); a running daemon uses it at once
  iotload plugins remove <name|package>`

const out = (s: string) => process.stdout.write(s)

async function list(): Promise<number> {
  const plugins = await listInstalledPlugins()
  for (const p of plugins) {
    const caps = p.capabilities
      ? Object.entries(p.capabilities)
          .filter(([, v]) => v)
          .map(([k]) => k)
          .join(', ')
      : `unavailable: ${p.error}`
    const where = p.source === 'plugin-dir' ? '  (installed)' : ''
    out(`${p.name.padEnd(14)} ${`${p.package}@${p.version}`.padEnd(40)} ${caps}${where}\n`)
  }
  if (plugins.length === 0) out(`no broker plugins found (plugin directory: ${defaultPluginDir()})\n`)
  return EXIT.ok
}

/**
 * `iotload plugins [install <spec> | remove <name>]`. The CLI user owns the machine, so install
 * takes any npm name, a tarball or a directory; the daemon's REST route takes allow-listed names only.
 */
export async function pluginsCommand(args: string[], verbose: boolean): Promise<number> {
  const [action, target, ...extra] = args
  if (action === undefined) return list()
  if ((action !== 'install' && action !== 'remove') || !target || extra.length > 0) {
    process.stderr.write(`error: usage:\n${PLUGINS_USAGE}\n`)
    return EXIT.badInput
  }
  const installer = new PluginInstaller()
  try {
    if (action === 'install') {
      const r = await installer.installSpec(target)
      out(`installed ${r.package}@${r.version} as '${r.name}' in ${installer.prefix} (${r.npm})\n`)
    } else {
      const r = await installer.remove(target)
      out(`removed ${r.package} from ${installer.prefix}\n`)
    }
    return EXIT.ok
  } catch (err) {
    const code = reportStartupError(err, verbose, (s) => process.stderr.write(s))
    return err instanceof ServiceError && err.kind === 'not-found' ? EXIT.badInput : code
  }
}
