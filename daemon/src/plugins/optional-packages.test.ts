import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { PluginLoadError } from '@iotload/sdk'
import { describe, expect, it } from 'vitest'
import { BRIDGE_PACKAGE, importOptionalPackage, loadBridge } from './optional-packages.ts'

describe('importOptionalPackage', () => {
  it('turns a missing package into a PluginLoadError that says what to install', async () => {
    const pkg = '@iotload/not-installed-anywhere'
    const err = await importOptionalPackage(() => import(pkg), pkg, "a scenario's bridge:").catch((e) => e)
    expect(err).toBeInstanceOf(PluginLoadError)
    expect(err.message).toBe(
      `[plugins] a scenario's bridge: needs ${pkg}, which is not installed: npm install ${pkg} beside the daemon`,
    )
  })

  it('reports a package that is there but fails to load as such, not as missing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iotload-optional-'))
    const broken = join(dir, 'broken.mjs')
    writeFileSync(broken, "throw new Error('top-level failure')\n")
    const err = await importOptionalPackage(() => import(pathToFileURL(broken).href), 'broken', 'x').catch(
      (e) => e,
    )
    expect(err).toBeInstanceOf(PluginLoadError)
    expect(err.message).toBe('[plugins] broken failed to load: top-level failure')
  })
})

describe('loadBridge', () => {
  it('loads the bridge role once per process', async () => {
    const first = loadBridge()
    expect(loadBridge()).toBe(first)
    expect(typeof (await first).startBridge).toBe('function')
    expect(BRIDGE_PACKAGE).toBe('@iotload/ipaas-bridge')
  })
})
