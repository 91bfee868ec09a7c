import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { cruise, type IConfiguration, type ICruiseResult } from 'dependency-cruiser'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

// The repository's own rules, run over a miniature repository with one deliberate violation per
// rule (and the allowed cases beside them), so a rule that stopped firing fails here.
const config = createRequire(import.meta.url)('../.dependency-cruiser.cjs') as IConfiguration

const FILES: Record<string, string> = {
  // Workspace packages, as npm links them.
  'sdk/package.json': '{"name":"@iotload/sdk","exports":{".":"./src/index.ts"}}',
  'plugins/ipaas-bridge/package.json': '{"name":"@iotload/ipaas-bridge","exports":{".":"./src/index.ts"}}',
  'plugins/broker-x/package.json': '{"name":"@iotload/broker-x","exports":{".":"./src/index.ts"}}',
  'node_modules/mqtt/package.json': '{"name":"mqtt","main":"index.js"}',
  'node_modules/mqtt/index.js': 'export default {}',
  'node_modules/zod/package.json': '{"name":"zod","main":"index.js"}',
  'node_modules/zod/index.js': 'export const z = {}',
  'node_modules/@opentelemetry/api/package.json': '{"name":"@opentelemetry/api","main":"index.js"}',
  'node_modules/@opentelemetry/api/index.js': 'export const trace = {}',
  'node_modules/@opentelemetry/sdk-trace/package.json':
    '{"name":"@opentelemetry/sdk-trace","main":"index.js"}',
  'node_modules/@opentelemetry/sdk-trace/index.js': 'export const x = 1',

  'sdk/src/index.ts': "import { z } from 'zod'\nexport const ok = z\n",
  'sdk/src/bad-client.ts': "import mqtt from 'mqtt'\nexport const m = mqtt\n",
  'sdk/src/bad-up.ts': "import { run } from '../../daemon/src/engine/run.ts'\nexport const r = run\n",

  'plugins/ipaas-bridge/src/index.ts': "import { ok } from '@iotload/sdk'\nexport const startBridge = ok\n",
  'plugins/broker-x/src/index.ts':
    "import { ok } from '@iotload/sdk'\nimport { trace } from '@opentelemetry/api'\nexport const x = [ok, trace]\n",
  'plugins/broker-x/src/bad-peer.ts':
    "import { startBridge } from '@iotload/ipaas-bridge'\nexport const b = startBridge\n",
  'plugins/broker-x/src/bad-otel.ts': "import { x } from '@opentelemetry/sdk-trace'\nexport const y = x\n",
  'plugins/broker-x/src/peer.test.ts':
    "import { startBridge } from '@iotload/ipaas-bridge'\nexport const b = startBridge\n",

  'otel/src/bad.ts': "import { run } from '../../daemon/src/engine/run.ts'\nexport const r = run\n",

  'daemon/src/log/logger.ts': 'export const log = 1\n',
  'daemon/src/engine/run.ts':
    "import type { startBridge } from '@iotload/ipaas-bridge'\nimport { log } from '../log/logger.ts'\nexport const run: typeof startBridge | number = log\n",
  'daemon/src/engine/bad-static.ts':
    "import { startBridge } from '@iotload/ipaas-bridge'\nexport const s = startBridge\n",
  'daemon/src/engine/run.test.ts': "import { x } from '@iotload/broker-x'\nexport const t = x\n",
  'daemon/src/plugins/optional-packages.ts':
    "export const load = () => import('@iotload/ipaas-bridge')\nimport { x } from '@iotload/broker-x'\nexport const y = x\n",
  'daemon/src/store/bad-up.ts': "import { run } from '../engine/run.ts'\nexport const r = run\n",
  'daemon/src/api/bad-peer.ts': "import { c } from '../cluster/c.ts'\nexport const a = c\n",
  'daemon/src/cluster/c.ts': "import { run } from '../engine/run.ts'\nexport const c = run\n",
  'daemon/src/scenario/a.ts': "import { b } from './b.ts'\nexport const a = () => b\n",
  'daemon/src/scenario/b.ts': "import { a } from './a.ts'\nexport const b = () => a\n",
}

let root: string
let violations: string[]

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'iotload-deps-'))
  for (const [path, text] of Object.entries(FILES)) {
    mkdirSync(dirname(join(root, path)), { recursive: true })
    writeFileSync(join(root, path), text)
  }
  mkdirSync(join(root, 'node_modules/@iotload'), { recursive: true })
  for (const [name, dir] of [
    ['sdk', 'sdk'],
    ['ipaas-bridge', 'plugins/ipaas-bridge'],
    ['broker-x', 'plugins/broker-x'],
  ])
    symlinkSync(join(root, dir!), join(root, 'node_modules/@iotload', name!), 'dir')
  const previous = process.cwd()
  process.chdir(root)
  try {
    const result = await cruise(
      ['sdk/src', 'plugins', 'otel/src', 'daemon/src'],
      {
        ruleSet: { forbidden: config.forbidden ?? [] },
        validate: true,
        tsPreCompilationDeps: true,
        doNotFollow: { path: 'node_modules' },
      },
      {
        exportsFields: ['exports'],
        conditionNames: ['import', 'types', 'default'],
        extensions: ['.ts', '.js'],
      },
    )
    const output = result.output as ICruiseResult
    violations = output.summary.violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`).sort()
  } finally {
    process.chdir(previous)
  }
}, 60_000)

afterAll(() => rmSync(root, { recursive: true, force: true }))

describe('the dependency rules (.dependency-cruiser.cjs)', () => {
  it('flag each deliberate violation, and nothing else', () => {
    expect(violations).toEqual(
      [
        'daemon-layer-api: daemon/src/api/bad-peer.ts -> daemon/src/cluster/c.ts',
        'daemon-layer-store: daemon/src/store/bad-up.ts -> daemon/src/engine/run.ts',
        'daemon-no-plugin-import: daemon/src/engine/bad-static.ts -> plugins/ipaas-bridge/src/index.ts',
        'daemon-plugin-import-is-lazy: daemon/src/plugins/optional-packages.ts -> plugins/broker-x/src/index.ts',
        'no-circular: daemon/src/scenario/a.ts -> daemon/src/scenario/b.ts',
        'otel-below-the-daemon: otel/src/bad.ts -> daemon/src/engine/run.ts',
        'plugins-import-only-the-sdk: plugins/broker-x/src/bad-peer.ts -> plugins/ipaas-bridge/src/index.ts',
        'plugins-otel-api-only: plugins/broker-x/src/bad-otel.ts -> node_modules/@opentelemetry/sdk-trace/index.js',
        'sdk-is-the-bottom: sdk/src/bad-up.ts -> daemon/src/engine/run.ts',
        'sdk-no-client-library: sdk/src/bad-client.ts -> node_modules/mqtt/index.js',
      ].sort(),
    )
  })
})
