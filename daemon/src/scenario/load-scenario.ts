import { readFile } from 'node:fs/promises'
import {
  type AuthConfig,
  type BrokerPlugin,
  ConfigError,
  encodeJsonEnvelope,
  type WildcardSyntax,
} from '@iotload/sdk'
import { parse as parseYaml } from 'yaml'
import { loadPlugin } from '../plugins/loader.ts'
import { applyEnvOverrides } from './env-overrides.ts'
import { compilePayloadTemplate } from './payload-template.ts'
import { redactScenario } from './redact.ts'
import { type Scenario, scenarioSchema } from './schema.ts'
import { resolveSecrets, SecretRegistry, secrets as processSecrets } from './secrets.ts'
import { parseSlo, type SloThreshold } from './slo.ts'
import { compileTextTemplate, templateToFilter } from './text-template.ts'
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
  /** Environment variables that were applied, and IOTLOAD_* ones that matched no field. */
  env: { applied: Array<{ env: string; path: string }>; unknown: string[] }
}

/** Options for `resolveScenario`. */
export interface ResolveOptions {
  env?: NodeJS.ProcessEnv
  /** Where secrets are registered for log scrubbing. @default the process-wide registry */
  secrets?: SecretRegistry
}

function asObject(value: unknown, what: string): Record<string, unknown> {
  if (value === undefined || value === null) return {}
  if (typeof value !== 'object' || Array.isArray(value))
    throw new ConfigError('', `${what} must be a mapping (YAML/JSON object)`)
  return structuredClone(value) as Record<string, unknown>
}

async function resolveBroker(section: Record<string, unknown>, path: string): Promise<ResolvedBroker> {
  const { plugin: pluginName, auth, ...pluginRaw } = section
  if (typeof pluginName !== 'string' || pluginName === '')
    throw new ConfigError(`${path}.plugin`, 'required (string)')
  const plugin = await loadPlugin(pluginName)
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
  compileTextTemplate(s.producer.topic, 'producer.topic')
  compileTextTemplate(s.producer.clientId, 'producer.clientId')
  compileTextTemplate(s.consumer.clientId, 'consumer.clientId')
  if (s.broker.auth?.username) compileTextTemplate(s.broker.auth.username, 'broker.auth.username')
  if (s.broker.auth?.password) compileTextTemplate(s.broker.auth.password, 'broker.auth.password')
  if (s.bridge) {
    compileTextTemplate(s.bridge.from, 'bridge.from')
    compileTextTemplate(s.bridge.to, 'bridge.to')
  }
  const render = compilePayloadTemplate(s.producer.payload, 'producer.payload', seed)
  if (s.producer.envelope === 'json') {
    const sample = render({ device: s.producer.firstDevice, seq: 0, run: 'sample' })
    let doc: unknown
    try {
      doc = JSON.parse(sample)
    } catch {
      throw new ConfigError(
        'producer.payload',
        'the json envelope needs a payload that renders a JSON object; use an object template or envelope: binary',
      )
    }
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
      throw new ConfigError(
        'producer.payload',
        'the json envelope needs a payload that renders a JSON object',
      )
    }
    JSON.parse(encodeJsonEnvelope(sample, { run: 'r', dev: 0, seq: 0, t: 1e15, ti: 1e15 }))
  }
}

/**
 * Turns a raw scenario (parsed YAML/JSON, or `{}` when configured purely by environment) into a
 * ResolvedScenario: env overrides, redaction, secret references, core and plugin validation,
 * template checks. Throws ConfigError (path-qualified) or PluginLoadError; nothing has started.
 */
export async function resolveScenario(
  input: unknown,
  options: ResolveOptions = {},
): Promise<ResolvedScenario> {
  const env = options.env ?? process.env
  const raw = asObject(input, 'the scenario')
  const brokerRaw = asObject(raw.broker, 'broker')
  const pluginName = env.IOTLOAD_BROKER_PLUGIN ?? brokerRaw.plugin
  if (typeof pluginName !== 'string' || pluginName === '')
    throw new ConfigError('broker.plugin', 'required (string), e.g. mqtt')
  const plugin = await loadPlugin(pluginName)
  const applied = applyEnvOverrides(
    raw,
    [{ schema: scenarioSchema }, { schema: plugin.configSchema, prefix: ['broker'] }],
    env,
  )

  const redacted = redactScenario(raw)
  const resolved = resolveSecrets(raw, options.secrets ?? processSecrets, env) as Record<string, unknown>
  const parsed = scenarioSchema.safeParse(resolved)
  if (!parsed.success) throw configErrorFrom(parsed.error)
  const scenario = parsed.data

  const broker = await resolveBroker(scenario.broker, 'broker')
  const bridgeBroker = scenario.bridge?.broker
    ? await resolveBroker(scenario.bridge.broker, 'bridge.broker')
    : undefined
  checkTemplates(scenario, scenario.run.seed)
  const slo = parseSlo(scenario.slo)
  const measuredTopic = scenario.bridge ? scenario.bridge.to : scenario.producer.topic
  const consumerWildcard = (bridgeBroker ?? broker).wildcard.single
  const consumerFilter = scenario.consumer.topic ?? templateToFilter(measuredTopic, consumerWildcard)
  return { scenario, redacted, broker, bridgeBroker, slo, consumerFilter, env: applied }
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

export { SecretRegistry }
