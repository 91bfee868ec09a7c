import { ConfigError } from '@iotload/sdk'
import type { Scenario } from './schema.ts'
import type { ScenarioLimits } from './trust-policy.ts'

const n = (v: number) => v.toLocaleString('en-US', { maximumFractionDigits: 3 })

function hours(ms: number): string {
  return ms % 86_400_000 === 0 ? `${ms / 86_400_000} days` : `${n(ms / 3_600_000)} h`
}

/**
 * Refuses a scenario that asks more of this process than the operator allows: the caps protect
 * the daemon (and the brokers it can reach) from a request for 1e300 msg/s or a year-long run.
 * Each error names the field and the flag that raises the cap.
 */
export function checkLimits(s: Scenario, limits: ScenarioLimits): void {
  const p = s.producer
  // With stages, the peak of the curve is what the process must be able to send.
  const total = p.stages
    ? Math.max(...p.stages.map((st) => st.target))
    : (p.totalRate ?? (p.rate ?? 0) * p.devices)
  if (!(total <= limits.maxRate))
    throw new ConfigError(
      p.stages ? 'producer.stages' : p.totalRate !== undefined ? 'producer.totalRate' : 'producer.rate',
      `asks for ${n(total)} msg/s in all; the limit is ${n(limits.maxRate)}/s (raise it with --max-rate)`,
    )
  if (p.devices > limits.maxDevices)
    throw new ConfigError(
      'producer.devices',
      `${n(p.devices)} devices; the limit is ${n(limits.maxDevices)} (raise it with --max-devices)`,
    )
  if (typeof p.connections === 'number' && p.connections > limits.maxDevices)
    throw new ConfigError(
      'producer.connections',
      `${n(p.connections)} connections; the limit is ${n(limits.maxDevices)} (raise it with --max-devices)`,
    )
  const runMs = p.duration + p.warmup + s.run.drain
  if (!(runMs <= limits.maxRunTimeMs))
    throw new ConfigError(
      'producer.duration',
      `duration + warmup + drain is ${hours(runMs)}; the limit is ${hours(limits.maxRunTimeMs)} (raise it with --max-run-time)`,
    )
  if (p.payloadSize !== undefined && p.payloadSize > limits.maxPayloadBytes)
    throw new ConfigError(
      'producer.payloadSize',
      `${n(p.payloadSize)} bytes; the limit is ${n(limits.maxPayloadBytes)} (raise it with --max-payload-bytes)`,
    )
  if (typeof s.run.workers === 'number' && s.run.workers > limits.maxWorkers)
    throw new ConfigError(
      'run.workers',
      `${n(s.run.workers)} worker threads; the limit is ${n(limits.maxWorkers)} (raise it with --max-workers)`,
    )
  const delay = s.bridge?.delay
  const delayMs =
    typeof delay === 'number'
      ? delay
      : delay === undefined
        ? 0
        : Math.max(
            ...Object.entries(delay)
              .filter(([k]) => k !== 'distribution')
              .map(([, v]) => Number(v)),
          )
  if (!(delayMs <= limits.maxRunTimeMs))
    throw new ConfigError('bridge.delay', `${hours(delayMs)} is longer than a whole run may last`)
}
