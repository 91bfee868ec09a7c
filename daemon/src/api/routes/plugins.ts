import { z } from 'zod'
import { loadPlugin } from '../../plugins/loader.ts'
import type { InstalledPlugin } from '../../plugins/list-plugins.ts'
import type { PluginInstaller } from '../../service/plugin-installer.ts'
import { readBody } from '../body.ts'
import { ApiError, parseWith } from '../errors.ts'
import type { Register } from '../openapi.ts'
import { errorResponse, installPluginBody, installResponse, pluginList } from '../schemas.ts'

async function describePlugin(p: InstalledPlugin): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = { ...p }
  if (!p.capabilities) return out
  try {
    const plugin = await loadPlugin(p.name)
    const schema = z.toJSONSchema(plugin.configSchema, { io: 'input', unrepresentable: 'any' }) as Record<
      string,
      unknown
    >
    delete schema.$schema
    out.configSchema = schema
  } catch (err) {
    out.error = `config schema unavailable: ${(err as Error).message}`
  }
  return out
}

/** Plugin routes: list installed ones with their config schema, install by allowed name. */
export function pluginRoutes(
  register: Register,
  installer: PluginInstaller,
  list: () => Promise<InstalledPlugin[]>,
  installAllowed: boolean,
): void {
  register(
    {
      method: 'get',
      path: '/v1/plugins',
      summary: 'Installed broker plugins: name, version, capabilities, config schema (JSON Schema)',
      responses: { 200: { description: 'plugins', schema: pluginList } },
    },
    async (c) => c.json({ plugins: await Promise.all((await list()).map(describePlugin)) }),
  )

  register(
    {
      method: 'post',
      path: '/v1/plugins',
      summary: 'Install a broker plugin with npm into the plugin directory',
      description:
        'Refused (403) unless the daemon was started with --allow-plugin-install. Only @iotload/broker-* packages (or a short name such as `kafka`) and packages on the daemon --plugin-allow list are accepted, installed without running their package scripts; never a path, URL or tarball (the operator installs those with `iotload plugins install`). The package goes to the plugin directory (IOTLOAD_PLUGIN_DIR) and runs can use it at once. A package that does not declare "iotload": { "plugin": "broker" } is removed again (400). When npm cannot reach the registry the answer is 502 REGISTRY_UNREACHABLE and nothing is installed.',
      body: { schema: installPluginBody },
      responses: {
        201: { description: 'installed', schema: installResponse },
        400: { description: 'name refused', schema: errorResponse },
        403: { description: 'installs are off (--allow-plugin-install)', schema: errorResponse },
        404: { description: 'no such package on the registry', schema: errorResponse },
        409: { description: 'another install is running', schema: errorResponse },
        502: { description: 'registry unreachable or npm failed', schema: errorResponse },
        504: { description: 'npm timed out', schema: errorResponse },
      },
    },
    async (c) => {
      if (!installAllowed)
        throw new ApiError(
          403,
          'PLUGIN_INSTALL_DISABLED',
          'this daemon does not install plugins on request; start it with --allow-plugin-install, or install with `iotload plugins install` on its host',
        )
      const body = parseWith(installPluginBody, await readBody(c, { yaml: false }), '')
      const result = await installer.install(body.name)
      const plugin = (await list()).find((p) => p.package === result.package)
      return c.json({ ...result, plugin: plugin ? await describePlugin(plugin) : null }, 201)
    },
  )
}
