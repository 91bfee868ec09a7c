import { readFile, stat } from 'node:fs/promises'
import {
  type AuthConfig,
  type BrokerPlugin,
  ConfigError,
  encodeJsonEnvelope,
  type WildcardSyntax,
} from '@iotload/sdk'
import { parse as parseYaml } from 'yaml'
import { loadBridge } from '../plugins/optional-packages.ts'
import { checkExternalAgainstProducer } from './external-metadata.ts'
import { checkExecAllowed, checkFaultTimes } from './faults-schema.ts'
import { resolveAllowedPath } from './allowed-files.ts'
import { applyEnvOverrides } from './env-overrides.ts'
import { checkLimits } from './limits.ts'
import { compilePayloadTemplate } from './payload-template.ts'
import { checkScenarioPlugins, loadScenarioPlugin } from './plugin-policy.ts'
import { redactScenario } from './redact.ts'
import { resolveReferences } from './references.ts'
import { checkConsumerMode } from './consumer-mode.ts'
import { type DeviceTlsTemplates, readDevicePem, takeDeviceTlsTemplates } from './device-tls.ts'
import { type IdentityTable, loadIdentities } from './identities-file.ts'
import { loadRecordedPayload, type RecordedPayload, recordedPayloadSpec } from './recorded-payload.ts'
import { withFleet } from './producer-groups.ts'
import { type ProducerConfig, type Scenario, scenarioSchema } from './schema.ts'
import { parseSlo, type SloThreshold } from './slo.ts'
import { compileTextTemplate, templateToFilter } from './text-template.ts'
import { refuseForbiddenKeys } from './safe-keys.ts'
import { checkTlsIsPem, inlineTlsFiles } from './tls-files.ts'
import { localPolicy, type TrustPolicy } from './trust-policy.ts'
import { checkWorkers } from './workers-check.ts'
import { secretFieldPaths } from './zod-walk.ts'
import { configErrorFrom } from './zod-errors.ts'

/** A broker section with its plugin loaded and its config validated by that plugin. */
export interface ResolvedBroker {
  pluginName: string
  plugin: BrokerPlugin
  config: unknown
  auth: AuthConfig | undefined
  wildcard: WildcardSyntax
}

/** Everything a run needs, validated once; nothing downstream re-validates. */
export interface ResolvedScenario {
  scenario: Scenario
  /** Safe to store and echo: secrets are references or `[redacted]`. */
  redacted: unknown
  broker: ResolvedBroker
  /** Output broker of the bridge, when it differs from `broker`. */
  bridgeBroker: ResolvedBroker | undefined
  slo: SloThreshold[]
  /** Filter the consumer subscribes to, in the plugin's syntax. */
  consumerFilter: string
  /** Every filter the consumer subscribes to: one per distinct group topic (`consumerFilter` first). */
  consumerFilters?: string[]
  /** `producer.identities` of `scenario.producer`, read (a group's are on its ProducerGroup). */
  identities?: IdentityTable
  /** `broker.tls.cert`/`key` templated per device (`certs/{device}.pem`), read as each device connects. */
  deviceTls?: DeviceTlsTemplates
  /** `payload: { file, order }` of `scenario.producer`, read and compiled (a group's are on its ProducerGroup). */
  recordedPayload?: RecordedPayload
  /** Reads a device's PEM file under the policy the scenario was resolved with. */
  readDevicePem?: (path: string, field: string) => Promise<string>
  /** Environment variables that were applied, and IOTLOAD_* ones that matched no field. */
  env: { applied: Array<{ env: string; path: string }>; unknown: string[] }
  /**
   * Secret values the scenario holds (resolved references, literals under secret-looking keys,
   * private keys). Registered for log scrubbing by the run, in its scope, once it starts.
   */
  secrets: string[]
  /** The policy the scenario was resolved under: a run's worker threads load plugins under it too. */
  policy?: TrustPolicy
}

/** Options for `resolveScenario`. */
export interface ResolveOptions {
  env?: NodeJS.ProcessEnv
  /** Who sent the scenario, and so what it may read and load. @default localPolicy() (the CLI) */
  policy?: TrustPolicy
}

function asObject(value: unknown, what: string): Record<string, unknown> {
  if (value === undefined || value === null) return {}
  if (typeof value !== 'object' || Array.isArray(value))
    throw new ConfigError('', `${what} must be a mapping (YAML/JSON object)`)
  return structuredClone(value) as Record<string, unknown>
}

async function resolveBroker(
  section: Record<string, unknown>,
  path: string,
  policy: TrustPolicy,
): Promise<ResolvedBroker> {
  const { plugin: pluginName, auth, ...pluginRaw } = section
  const plugin = await loadScenarioPlugin(pluginName, `${path}.plugin`, policy)
  if (typeof pluginName !== 'string') throw new ConfigError(`${path}.plugin`, 'required (string)')
  const parsed = plugin.configSchema.safeParse(pluginRaw)
  if (!parsed.success) throw configErrorFrom(parsed.error, path)
  return {
    pluginName,
    plugin,
    config: parsed.data,
    auth: auth as AuthConfig | undefined,
    wildcard: plugin.wildcardSyntax ?? { single: '+', multi: '#' },
  }
}

function checkTemplates(s: Scenario, seed: number): void {
  compileTextTemplate(s.consumer.clientId, 'consumer.clientId')
  if (s.broker.auth?.username) compileTextTemplate(s.broker.auth.username, 'broker.auth.username')
  if (s.broker.auth?.password) compileTextTemplate(s.broker.auth.password, 'broker.auth.password')
  if (s.bridge) {
    compileTextTemplate(s.bridge.from, 'bridge.from')
    compileTextTemplate(s.bridge.to, 'bridge.to')
  }
  for (const [i, g] of s.groups.entries()) {
    const at = s.grouped ? `producers[${i}]` : 'producer'
    checkProducerTemplates(g.config, at, seed)
    if (g.auth?.username) compileTextTemplate(g.auth.username, `${at}.auth.username`)
    if (g.auth?.password) compileTextTemplate(g.auth.password, `${at}.auth.password`)
  }
}

/** One producer's (or group's) topic, client id and payload, compiled and rendered once. */
function checkProducerTemplates(p: ProducerConfig, at: string, seed: number): void {
  compileTextTemplate(p.topic, `${at}.topic`)
  compileTextTemplate(p.clientId, `${at}.clientId`)
  if (p.will) {
    compileTextTemplate(p.will.topic, `${at}.will.topic`)
    compilePayloadTemplate(p.will.payload, `${at}.will.payload`, seed)
  }
  const render = compilePayloadTemplate(p.payload, `${at}.payload`, seed)
  // Rendered once whatever the envelope: a template that throws must fail here, not per message.
  let sample: string
  try {
    sample = render({ device: p.firstDevice, seq: 0, run: 'sample' })
  } catch (err) {
    throw new ConfigError(
      `${at}.payload`,
      `the payload template cannot be rendered: ${(err as Error).message}`,
    )
  }
  if (p.envelope === 'json') {
    let doc: unknown
    try {
      doc = JSON.parse(sample)
    } catch {
      throw new ConfigError(
        `${at}.payload`,
        'the json envelope needs a payload that renders a JSON object; use an object template or envelope: binary',
      )
    }
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
      throw new ConfigError(`${at}.payload`, 'the json envelope needs a payload that renders a JSON object')
    }
    JSON.parse(encodeJsonEnvelope(sample, { run: 'r', dev: 0, seq: 0, t: 1e15, ti: 1e15 }))
  }
}

async function checkTransformModule(s: Scenario, policy: TrustPolicy): Promise<void> {
  const t = s.bridge?.transform
  if (!t || t === 'passthrough' || !('module' in t)) return
  // The run imports exactly the file checked here: its real path, symlinks resolved.
  const real = await resolveAllowedPath(t.module, policy, 'transform', 'bridge.transform.module')
  if (!(await stat(real)).isFile())
    throw new ConfigError(
      'bridge.transform.module',
      `'${t.module}' is not a file (a directory cannot be imported)`,
    )
  t.module = real
}

/** Each group's `auth.*`: credential fields, where references resolve for any sender. */
function groupCredentialPaths(producers: unknown): string[][] {
  if (!Array.isArray(producers)) return []
  return producers.flatMap((_, i) =>
    ['username', 'password', 'token'].map((k) => ['producers', String(i), 'auth', k]),
  )
}

function bridgeBrokerOf(raw: Record<string, unknown>): Record<string, unknown> | undefined {
  const b = raw.bridge
  if (b === null || typeof b !== 'object' || Array.isArray(b)) return undefined
  const broker = (b as Record<string, unknown>).broker
  return broker !== null && typeof broker === 'object' && !Array.isArray(broker)
    ? (broker as Record<string, unknown>)
    : undefined
}

/**
 * Turns a raw scenario (parsed YAML/JSON, or `{}` when configured purely by environment) into a
 * ResolvedScenario under the sender's policy: plugin names, env overrides, redaction, secret
 * references, TLS files, core and plugin validation, limits, template and transform checks.
 * Throws ConfigError (path-qualified) or PluginLoadError; nothing has started and nothing was
 * registered anywhere.
 */
export async function resolveScenario(
  input: unknown,
  options: ResolveOptions = {},
): Promise<ResolvedScenario> {
  const env = options.env ?? process.env
  const policy = options.policy ?? localPolicy()
  refuseForbiddenKeys(input)
  const raw = asObject(input, 'the scenario')
  if (policy.origin === 'remote') checkScenarioPlugins(raw, policy.allowPlugins)
  checkExecAllowed(raw, policy)
  const brokerRaw = asObject(raw.broker, 'broker')
  const plugin = await loadScenarioPlugin(
    env.IOTLOAD_BROKER_PLUGIN ?? brokerRaw.plugin,
    'broker.plugin',
    policy,
  )
  const applied = applyEnvOverrides(
    raw,
    [{ schema: scenarioSchema }, { schema: plugin.configSchema, prefix: ['broker'] }],
    env,
  )
  const bridgePluginName = bridgeBrokerOf(raw)?.plugin
  const bridgePlugin =
    bridgePluginName !== undefined
      ? await loadScenarioPlugin(bridgePluginName, 'bridge.broker.plugin', policy)
      : undefined

  const redacted = redactScenario(raw)
  // Per-device certificate paths are read as each device connects, not here.
  const deviceTls = takeDeviceTlsTemplates(raw.broker, 'broker')
  // TLS file paths are read before references resolve: a value that came from a reference is
  // then only ever PEM text, never a path whose error message would quote a secret.
  const found: string[] = []
  await inlineTlsFiles(raw.broker, 'broker', policy, found)
  await inlineTlsFiles(bridgeBrokerOf(raw), 'bridge.broker', policy, found)
  const refs = await resolveReferences(raw, {
    policy,
    env,
    secretPaths: [
      ...secretFieldPaths(plugin.configSchema, ['broker']),
      ...groupCredentialPaths(raw.producers),
      ...(bridgePlugin ? secretFieldPaths(bridgePlugin.configSchema, ['bridge', 'broker']) : []),
    ],
  })
  const resolved = refs.value as Record<string, unknown>
  checkTlsIsPem(resolved.broker, 'broker')
  checkTlsIsPem(bridgeBrokerOf(resolved), 'bridge.broker')
  const parsed = scenarioSchema.safeParse(resolved)
  if (!parsed.success) throw configErrorFrom(parsed.error)
  const scenario = withFleet(parsed.data)
  checkLimits(scenario, policy.limits)
  for (const [i, g] of scenario.groups.entries()) {
    const ids = g.config.identities
    if (ids === undefined) continue
    const { file, wrap } = typeof ids === 'string' ? { file: ids, wrap: false } : ids
    const field = scenario.grouped ? `producers[${i}].identities` : 'producer.identities'
    g.identities = await loadIdentities(file, field, { policy, env, devices: g.config.devices, wrap, found })
  }
  for (const [i, g] of scenario.groups.entries()) {
    const spec = recordedPayloadSpec(g.config.payload)
    const field = scenario.grouped ? `producers[${i}].payload` : 'producer.payload'
    if (spec) g.recorded = await loadRecordedPayload(spec, field, policy, scenario.run.seed)
  }

  const broker = await resolveBroker(scenario.broker, 'broker', policy)
  const bridgeBroker = scenario.bridge?.broker
    ? await resolveBroker(scenario.bridge.broker, 'bridge.broker', policy)
    : undefined
  checkTemplates(scenario, scenario.run.seed)
  checkExternalAgainstProducer(scenario.consumer.external, scenario.producer)
  checkFaultTimes(scenario.faults, scenario.producer.warmup + scenario.producer.duration)
  const consumerBroker = bridgeBroker ?? broker
  checkConsumerMode(scenario, consumerBroker.pluginName, consumerBroker.plugin)
  checkWorkers(scenario)
  await checkTransformModule(scenario, policy)
  // A missing bridge package is bad input, reported before anything starts.
  if (scenario.bridge) await loadBridge()
  const slo = parseSlo(scenario.slo)
  const consumerWildcard = (bridgeBroker ?? broker).wildcard.single
  // Groups with topics of their own are measured through one filter each (the same ones once).
  const measuredTopics = scenario.bridge ? [scenario.bridge.to] : scenario.groups.map((g) => g.config.topic)
  const consumerFilters = scenario.consumer.topic
    ? [scenario.consumer.topic]
    : [...new Set(measuredTopics.map((t) => templateToFilter(t, consumerWildcard)))]
  const consumerFilter = consumerFilters[0]!
  return {
    scenario,
    redacted,
    broker,
    bridgeBroker,
    slo,
    consumerFilter,
    consumerFilters,
    ...(scenario.groups[0]?.identities && !scenario.grouped
      ? { identities: scenario.groups[0].identities }
      : {}),
    ...(deviceTls ? { deviceTls } : {}),
    ...(scenario.groups[0]?.recorded && !scenario.grouped
      ? { recordedPayload: scenario.groups[0].recorded }
      : {}),
    readDevicePem: (path, field) => readDevicePem(path, field, policy),
    env: applied,
    secrets: [...new Set([...found, ...refs.secrets])],
    policy,
  }
}

/** Parses YAML or JSON text (JSON is YAML) into a raw scenario. */
export function parseScenarioText(text: string, source: string): unknown {
  try {
    return parseYaml(text)
  } catch (err) {
    throw new ConfigError('', `${source} is not valid YAML/JSON: ${(err as Error).message}`)
  }
}

/** Reads and resolves a scenario file. */
export async function loadScenarioFile(
  path: string,
  options: ResolveOptions = {},
): Promise<ResolvedScenario> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    throw new ConfigError(
      '',
      `cannot read scenario file '${path}': ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    )
  }
  return resolveScenario(parseScenarioText(text, path), options)
}
