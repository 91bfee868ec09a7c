import { ConfigError, PluginLoadError } from '@iotload/sdk'
import { describe, expect, it } from 'vitest'
import { resolveScenario } from './load-scenario.ts'

const base = () => ({
  broker: { plugin: 'mqtt', url: 'mqtt://127.0.0.1:1883' },
  producer: { devices: 10, rate: '10/s', duration: '5s' },
})

async function errorOf(raw: unknown, env: NodeJS.ProcessEnv = {}): Promise<ConfigError | PluginLoadError> {
  try {
    await resolveScenario(raw, { env })
  } catch (err) {
    if (err instanceof ConfigError || err instanceof PluginLoadError) return err
    throw err
  }
  throw new Error('expected the scenario to be rejected')
}

describe('resolveScenario', () => {
  it('accepts a minimal scenario and fills defaults', async () => {
    const r = await resolveScenario(base(), { env: {} })
    expect(r.scenario.producer.topic).toBe('devices/{device}/telemetry')
    expect(r.scenario.producer.rate).toBe(10)
    expect(r.scenario.producer.duration).toBe(5000)
    expect(r.consumerFilter).toBe('devices/+/telemetry')
    expect(r.broker.pluginName).toBe('mqtt')
  })

  it('names an unknown key', async () => {
    const s = base() as Record<string, unknown>
    ;(s.producer as Record<string, unknown>).devcies = 5
    const err = await errorOf(s)
    expect(err.message).toMatch(/producer\.devcies: unknown key/)
  })

  it('names a negative rate', async () => {
    const s = base()
    s.producer.rate = '-5/s'
    expect((await errorOf(s)).message).toMatch(/producer\.rate: expected a positive rate/)
  })

  it('names a missing url, validated by the plugin', async () => {
    const s = base() as { broker: Record<string, unknown> }
    delete s.broker.url
    expect((await errorOf(s)).message).toMatch(/broker\.url: required/)
  })

  it('names a bad duration', async () => {
    const s = base()
    s.producer.duration = 'forever'
    const err = await errorOf(s)
    expect(err).toBeInstanceOf(ConfigError)
    expect(err.message).toMatch(/producer\.duration: expected a duration/)
  })

  it('rejects an unknown plugin with an actionable message', async () => {
    const s = base()
    s.broker.plugin = 'carrier-pigeon'
    const err = await errorOf(s)
    expect(err).toBeInstanceOf(PluginLoadError)
    expect(err.message).toMatch(
      /unknown broker plugin 'carrier-pigeon'.*npm install @iotload\/broker-carrier-pigeon/,
    )
  })

  it('rejects an unknown template placeholder in a topic', async () => {
    const s = base() as { producer: Record<string, unknown> }
    s.producer.topic = 'devices/{devce}/t'
    expect((await errorOf(s)).message).toMatch(/producer\.topic: unknown placeholder \{devce\}/)
  })

  it('applies IOTLOAD_* environment overrides with typed values', async () => {
    const r = await resolveScenario(base(), {
      env: {
        IOTLOAD_PRODUCER_DEVICES: '2000',
        IOTLOAD_BROKER_VERSION: '3.1.1',
        IOTLOAD_SLO_E2E_P99: '10ms',
        IOTLOAD_PRODUCER_TYPO: 'x',
      },
    })
    expect(r.scenario.producer.devices).toBe(2000)
    expect((r.broker.config as { version: string }).version).toBe('3.1.1')
    expect(r.slo[0]).toMatchObject({ stream: 'e2e', stat: 'p99', maxUs: 10_000 })
    expect(r.env.unknown).toEqual(['IOTLOAD_PRODUCER_TYPO'])
  })

  it('builds a whole scenario from the environment alone', async () => {
    const r = await resolveScenario(
      {},
      {
        env: {
          IOTLOAD_BROKER_PLUGIN: 'mqtt',
          IOTLOAD_BROKER_URL: 'mqtt://127.0.0.1:1883',
          IOTLOAD_PRODUCER_DEVICES: '3',
          IOTLOAD_PRODUCER_RATE: '2/s',
          IOTLOAD_PRODUCER_DURATION: '1s',
        },
      },
    )
    expect(r.scenario.producer.devices).toBe(3)
  })

  it('resolves ${env:…} secrets, keeps only the reference in the redacted copy, and returns the value as a secret', async () => {
    const s = {
      ...base(),
      broker: { ...base().broker, auth: { username: 'dev-{device}', password: '${env:MQTT_PW}' } },
    }
    const r = await resolveScenario(s, { env: { MQTT_PW: 's3cret-value' } })
    expect(r.scenario.broker.auth?.password).toBe('s3cret-value')
    expect(JSON.stringify(r.redacted)).not.toContain('s3cret-value')
    expect(JSON.stringify(r.redacted)).toContain('${env:MQTT_PW}')
    expect(r.secrets).toEqual(['s3cret-value'])
  })

  it('redacts literal passwords and URL credentials', async () => {
    const s = {
      ...base(),
      broker: {
        plugin: 'mqtt',
        url: 'mqtt://user:hunter22@127.0.0.1:1883',
        auth: { password: 'literal-pw' },
      },
    }
    const r = await resolveScenario(s, { env: {} })
    const text = JSON.stringify(r.redacted)
    expect(text).not.toContain('literal-pw')
    expect(text).not.toContain('hunter22')
  })

  it('fails clearly when a referenced environment variable is missing', async () => {
    const s = { ...base(), broker: { ...base().broker, auth: { password: '${env:NOPE_NOT_SET}' } } }
    expect((await errorOf(s)).message).toMatch(
      /broker\.auth\.password: environment variable NOPE_NOT_SET is not set/,
    )
  })

  it('requires exactly one of rate and totalRate', async () => {
    const s = base() as { producer: Record<string, unknown> }
    s.producer.totalRate = '100/s'
    expect((await errorOf(s)).message).toMatch(/producer\.rate: give exactly one of rate/)
  })
})
