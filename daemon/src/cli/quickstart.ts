import { startEmbeddedMqttBroker } from '../plugins/optional-packages.ts'
import { resolveScenario } from '../scenario/load-scenario.ts'
import { type RunFlags, runResolved } from './run-command.ts'

/**
 * The quickstart scenario: the seed's asset tracker, through the embedded broker and iotload's
 * bridge (telemetry → action), measured end to end. No external service is needed.
 */
export function quickstartScenario(url: string): Record<string, unknown> {
  return {
    name: 'quickstart: embedded MQTT broker + bridge',
    broker: { plugin: 'mqtt', url, version: '3.1.1' },
    producer: {
      devices: 100,
      rate: '10/s',
      duration: '10s',
      warmup: '2s',
      topic: 'devices/{device}/telemetry',
      payload: {
        assetId: 'tracker-{device}',
        lastUpdated: '{iso}',
        location: { lat: '{float:40.0:41.0:5}', lon: '{float:-74.5:-73.5:5}' },
        temperature: '{float:15:30:1}',
        valve: '{choice:open|closed}',
      },
      qos: 1,
    },
    bridge: { from: 'devices/{device}/telemetry', to: 'actions/{device}' },
    slo: { loss: 0 },
  }
}

/** `iotload quickstart`: embedded aedes broker, producer, bridge and consumer in one process. */
export async function quickstart(flags: RunFlags): Promise<number> {
  const broker = await startEmbeddedMqttBroker()
  try {
    process.stderr.write(
      `quickstart: embedded MQTT broker on ${broker.url}; 100 devices × 10 msg/s for 10 s (+2 s warm-up) via the bridge\n`,
    )
    const resolved = await resolveScenario(quickstartScenario(broker.url))
    return await runResolved(resolved, flags)
  } finally {
    await broker.close()
  }
}
