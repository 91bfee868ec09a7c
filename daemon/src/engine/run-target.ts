import type { ResolvedScenario } from '../scenario/load-scenario.ts'
import type { buildSummary } from './summary.ts'

type SummaryInput = Parameters<typeof buildSummary>[0]

/**
 * What a run was asked to do, as its summary states it (broker plugins and the producer's target):
 * one source for the single-thread run and the sharded one.
 */
export function runTarget(
  resolved: ResolvedScenario,
  totalRate: number,
): Pick<SummaryInput, 'plugin' | 'pluginNames' | 'target'> {
  const p = resolved.scenario.producer
  const plugin = resolved.broker.pluginName
  return {
    plugin,
    pluginNames: [plugin, ...(resolved.bridgeBroker ? [resolved.bridgeBroker.pluginName] : [])],
    target: {
      plugin,
      devices: p.devices,
      ratePerDevice: totalRate / p.devices,
      totalRate,
      durationS: p.duration / 1000,
      warmupS: p.warmup / 1000,
      qos: p.qos,
      envelope: p.envelope,
      ...(p.stages
        ? {
            stages: p.stages.map((st) => ({
              durationS: st.duration / 1000,
              target: st.target,
              ramp: st.ramp,
            })),
          }
        : {}),
    },
  }
}
