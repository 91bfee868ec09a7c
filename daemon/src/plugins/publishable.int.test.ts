import { execFileSync } from 'node:child_process'
import { lstatSync, mkdtempSync, readdirSync, realpathSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isBrokerPlugin } from '@iotload/sdk'
import { afterAll, describe, expect, it } from 'vitest'
import { PluginInstaller } from '../service/plugin-installer.ts'
import { forgetPlugins, loadPlugin } from './loader.ts'
import { findPluginPackage } from './plugin-manifest.ts'

const PLUGINS = join(import.meta.dirname, '..', '..', '..', 'plugins')
const brokers = readdirSync(PLUGINS).filter((d) => d.startsWith('broker-'))
const work = mkdtempSync(join(tmpdir(), 'iotload-publish-'))
const pluginDir = join(work, 'plugins')
process.env.IOTLOAD_PLUGIN_DIR = pluginDir

afterAll(() => rmSync(work, { recursive: true, force: true }))

/**
 * Each plugin package in the repo as npm would publish it: `npm pack`, installed into a fresh
 * plugin directory (its dependencies from the registry, the sdk peer from the host), and loaded
 * from there rather than from the workspace.
 */
describe('every broker plugin in plugins/ packs, installs and loads outside the workspace', () => {
  const installer = new PluginInstaller({ prefix: pluginDir })
  for (const dir of brokers) {
    it(dir, async () => {
      const [packed] = JSON.parse(
        execFileSync('npm', ['pack', join(PLUGINS, dir), '--pack-destination', work, '--json'], {
          encoding: 'utf8',
        }),
      ) as Array<{ filename: string; name: string; files: Array<{ path: string }> }>
      const files = packed!.files.map((f) => f.path)
      expect(files).toContain('src/index.ts')
      expect(files.filter((f) => /\.test\.ts$|\/testing\//.test(f))).toEqual([])
      const result = await installer.installSpec(join(work, packed!.filename))
      expect(result.package).toBe(packed!.name)
      const found = findPluginPackage(pluginDir, packed!.name)!
      expect(realpathSync(found.dir).startsWith(realpathSync(pluginDir))).toBe(true)
      forgetPlugins()
      const plugin = await loadPlugin(packed!.name)
      expect(isBrokerPlugin(plugin)).toBe(true)
      expect(plugin.name).toBe(dir.slice('broker-'.length))
    }, 240_000)
  }
})

describe('iotload plugins install <directory>', () => {
  it('packs the directory and installs a copy (not a link to the work tree), and remove takes it out', async () => {
    const installer = new PluginInstaller({ prefix: pluginDir })
    const example = join(import.meta.dirname, '..', '..', '..', 'examples', 'plugins', 'broker-redis-streams')
    const result = await installer.installSpec(example)
    expect(result).toMatchObject({
      package: 'iotload-broker-redis-streams',
      name: 'redis-streams',
      version: '0.1.0',
    })
    const installed = join(pluginDir, 'node_modules', 'iotload-broker-redis-streams')
    expect(lstatSync(installed).isSymbolicLink()).toBe(false)
    forgetPlugins()
    expect((await loadPlugin('redis-streams')).capabilities).toEqual({
      headers: true,
      publishAck: true,
      wildcards: false,
    })
    await expect(installer.remove('redis-streams')).resolves.toMatchObject({
      package: 'iotload-broker-redis-streams',
    })
    expect(findPluginPackage(pluginDir, 'redis-streams')).toBeUndefined()
    await expect(installer.remove('redis-streams')).rejects.toMatchObject({ code: 'PLUGIN_NOT_INSTALLED' })
  }, 240_000)
})
