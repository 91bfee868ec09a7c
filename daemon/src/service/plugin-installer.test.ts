import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConfigError } from '@iotload/sdk'
import { afterAll, describe, expect, it } from 'vitest'
import { ServiceError } from './errors.ts'
import { PluginInstaller } from './plugin-installer.ts'
import { checkScenarioPlugins, isAllowedPluginName, parseInstallName } from './plugin-names.ts'

/** A loopback port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const srv = createServer()
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))
  const { port } = srv.address() as { port: number }
  await new Promise((r) => srv.close(r))
  return port
}

describe('plugin names', () => {
  it('maps short names and keeps versions', () => {
    expect(parseInstallName('kafka')).toEqual({ pkg: '@iotload/broker-kafka' })
    expect(parseInstallName('@iotload/broker-kafka@^0.2.0')).toEqual({
      pkg: '@iotload/broker-kafka',
      version: '^0.2.0',
    })
    expect(parseInstallName('@acme/broker-x', ['@acme/broker-x'])).toEqual({ pkg: '@acme/broker-x' })
  })

  it('refuses anything npm could read as a path, URL, flag or foreign package', () => {
    for (const bad of [
      '@iotload/sdk',
      '@iotload/broker-x@file:/tmp/x',
      '@iotload/broker-x@git+https://evil/x.git',
      '@iotload/broker-x@http://evil/x.tgz',
      'github:evil/x',
      '-g',
      '--prefix=/',
      '/abs/path',
      './rel',
      '@acme/broker-x',
      'a b',
      '',
      'kafka\n--global',
    ]) {
      expect(() => parseInstallName(bad), JSON.stringify(bad)).toThrow(ConfigError)
    }
  })

  it('lets scenarios over HTTP name only short names, @iotload/broker-* or allowlisted packages', () => {
    expect(isAllowedPluginName('mqtt')).toBe(true)
    expect(isAllowedPluginName('@iotload/broker-mqtt')).toBe(true)
    expect(isAllowedPluginName('/tmp/evil.mjs')).toBe(false)
    expect(isAllowedPluginName('./evil.mjs')).toBe(false)
    expect(isAllowedPluginName('data:text/javascript,1')).toBe(false)
    expect(() =>
      checkScenarioPlugins({ broker: { plugin: 'mqtt' }, bridge: { broker: { plugin: '/x.js' } } }),
    ).toThrow(/bridge\.broker\.plugin/)
    expect(() => checkScenarioPlugins({ broker: { plugin: 42 } })).toThrow(ConfigError)
  })
})

describe('PluginInstaller with the real npm', () => {
  const prefix = mkdtempSync(join(tmpdir(), 'iotload-npm-'))
  writeFileSync(join(prefix, 'package.json'), '{"name":"npm-install-target","private":true}')
  afterAll(() => rmSync(prefix, { recursive: true, force: true }))

  it('reports an unreachable registry honestly and installs nothing', async () => {
    const registry = `http://127.0.0.1:${await closedPort()}/`
    const installer = new PluginInstaller({ prefix, registry, fetchRetries: 0, timeoutMs: 90_000 })
    const err = await installer.install('does-not-exist-zz9').then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(err).toBeInstanceOf(ServiceError)
    expect(err).toMatchObject({ kind: 'upstream', code: 'REGISTRY_UNREACHABLE' })
    expect((err as Error).message).toContain(registry)
    expect((err as Error).message).toContain('@iotload/broker-does-not-exist-zz9')
    expect(readdirSync(prefix)).not.toContain('node_modules')
  }, 120_000)

  it('runs one install at a time, and takes back a package that is not an iotload plugin', async () => {
    let release: () => void = () => {}
    const calls: string[] = []
    const installer = new PluginInstaller({
      prefix,
      npm: (args) =>
        new Promise((r) => {
          calls.push(`${args[0]} ${args.at(-1)}`)
          release = () => r({ code: 0, stdout: '', stderr: '', timedOut: false })
          if (args[0] === 'uninstall') release()
        }),
    })
    const first = installer.install('a')
    await expect(installer.install('b')).rejects.toMatchObject({ code: 'INSTALL_IN_PROGRESS' })
    release()
    // npm "succeeded" but left no package declaring "iotload": { "plugin": "broker" }.
    await expect(first).rejects.toThrow(/@iotload\/broker-a is not an iotload broker plugin/)
    expect(calls).toEqual(['install @iotload/broker-a', 'uninstall @iotload/broker-a'])
  })
})

describe('PluginInstaller scripts', () => {
  it('passes --ignore-scripts when installing on a request’s behalf, and only then', async () => {
    const seen: string[][] = []
    const fake = async (args: string[]) => {
      seen.push(args)
      return { code: 1, stdout: '', stderr: 'npm error code E404\nnpm error 404 Not Found', timedOut: false }
    }
    const dir = mkdtempSync(join(tmpdir(), 'iotload-scripts-'))
    try {
      for (const ignoreScripts of [true, false]) {
        const installer = new PluginInstaller({ prefix: dir, npm: fake, ignoreScripts })
        await installer.install('kafka').catch(() => {})
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
    expect(seen).toHaveLength(2)
    expect(seen[0]).toContain('--ignore-scripts')
    expect(seen[1]).not.toContain('--ignore-scripts')
  })
})
