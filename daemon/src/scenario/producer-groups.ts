import { ConfigError } from '@iotload/sdk'
import type { ParsedScenario, ProducerConfig, ProducerGroup, ProducerGroupInput, Scenario } from './schema.ts'

/** What a `producers:` list normalises to: the groups, and the fleet they make together. */
export interface Fleet {
  groups: ProducerGroup[]
  /** The whole fleet as one producer (see `fleetProducer`). */
  producer: ProducerConfig
}

/** `{group}` replaced by the group's name; `{{` and `}}` stay literal for the template compiler. */
function withGroup(text: string, group: string): string {
  return text.replace(/\{\{|\}\}|\{group\}/g, (m) => (m === '{group}' ? group : m))
}

function payloadWithGroup(payload: unknown, group: string): unknown {
  if (typeof payload === 'string') return withGroup(payload, group)
  if (Array.isArray(payload)) return payload.map((v) => payloadWithGroup(v, group))
  if (payload !== null && typeof payload === 'object')
    return Object.fromEntries(Object.entries(payload).map(([k, v]) => [k, payloadWithGroup(v, group)]))
  return payload
}

function peakRate(p: ProducerConfig): number {
  if (p.stages) return Math.max(...p.stages.map((s) => s.target))
  return p.totalRate ?? (p.rate ?? 0) * p.devices
}

/** A ConfigError at `producers[i].field`. */
function groupError(i: number, field: string, message: string): ConfigError {
  return new ConfigError(`producers[${i}].${field}`, message)
}

/**
 * Numbers the groups' devices one after the other (ids unique across the fleet), renders
 * `{group}`, and checks what must hold across groups: distinct names, one schedule length.
 * The first group may set `firstDevice`; later groups continue from the previous one.
 * Throws ConfigError naming the field.
 */
export function normalizeGroups(groups: ProducerGroupInput[]): Fleet {
  const seen = new Map<string, number>()
  const first = groups[0]!.config
  let next = first.firstDevice
  const out: ProducerGroup[] = []
  for (const [i, g] of groups.entries()) {
    const before = seen.get(g.name)
    if (before !== undefined)
      throw groupError(
        i,
        'name',
        `duplicate group name '${g.name}' (already producers[${before}].name); each group needs its own`,
      )
    seen.set(g.name, i)
    const c = g.config
    if (i > 0 && c.firstDevice !== 0)
      throw groupError(
        i,
        'firstDevice',
        'device ids run on across groups in order; only the first group may set firstDevice',
      )
    if (i > 0 && (c.warmup !== first.warmup || c.duration !== first.duration))
      throw groupError(
        i,
        c.stages ? 'stages' : c.warmup !== first.warmup ? 'warmup' : 'duration',
        `every group runs on one schedule: ${first.duration / 1000}s measured after ${first.warmup / 1000}s of warm-up, as producers[0]`,
      )
    const config: ProducerConfig = {
      ...c,
      firstDevice: next,
      topic: withGroup(c.topic, g.name),
      clientId: withGroup(c.clientId, g.name),
      payload: payloadWithGroup(c.payload, g.name) as ProducerConfig['payload'],
    }
    next += c.devices
    const auth = g.auth?.username ? { ...g.auth, username: withGroup(g.auth.username, g.name) } : g.auth
    out.push({ name: g.name, ...(auth ? { auth } : {}), config })
  }
  return { groups: out, producer: fleetProducer(out) }
}

/**
 * The scenario with its fleet settled: `producer:` alone is one group named `default`;
 * `producers:` become groups and `producer` the whole fleet. Exactly one of the two is given.
 */
export function withFleet(parsed: ParsedScenario): Scenario {
  const { producer, producers, ...rest } = parsed
  if (producer && producers)
    throw new ConfigError(
      'producers',
      'give either producer (one kind of device) or producers (groups), not both',
    )
  if (producers) {
    const fleet = normalizeGroups(producers)
    return { ...rest, producer: fleet.producer, groups: fleet.groups, grouped: true }
  }
  if (!producer) throw new ConfigError('producer', 'required (or producers: a list of device groups)')
  return { ...rest, producer, groups: [{ name: 'default', config: producer }], grouped: false }
}

/**
 * The whole fleet as one producer config, for what looks at the fleet as a whole (limits, the
 * summary's target, the consumer's default QoS): every device, the sum of the groups' peak rates,
 * the largest QoS and payload; topic, envelope and the rest are the first group's.
 */
export function fleetProducer(groups: ProducerGroup[]): ProducerConfig {
  const first = groups[0]!.config
  const sizes = groups.map((g) => g.config.payloadSize).filter((n): n is number => n !== undefined)
  const { rate: _rate, stages: _stages, reconnectStorm: _storm, payloadSize: _size, ...rest } = first
  return {
    ...rest,
    devices: groups.reduce((n, g) => n + g.config.devices, 0),
    totalRate: groups.reduce((r, g) => r + peakRate(g.config), 0),
    qos: Math.max(...groups.map((g) => g.config.qos)) as ProducerConfig['qos'],
    ...(sizes.length > 0 ? { payloadSize: Math.max(...sizes) } : {}),
  }
}
