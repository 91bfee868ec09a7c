import { memoryPlugin } from '@iotload/broker-memory'
import type { BrokerConnection } from '@iotload/sdk'
import { createTestContext } from '@iotload/sdk/testing'

/** What a foreign flow does with one telemetry message: an action (or several: duplicates), or nothing (a drop). */
export type FlowStep = (telemetry: Record<string, unknown>, unit: string) => unknown | unknown[] | undefined

/** A running foreign flow. */
export interface ForeignFlow {
  /** Telemetry messages the flow took in. */
  readonly seen: number
  /** A client of the same bus, to publish around the flow (leftovers, say). */
  readonly client: BrokerConnection
  close(): Promise<void>
}

/**
 * A flow engine outside iotload, on the memory bus `bus`, written the way an integration team
 * would: it subscribes to `from` (`ext/+/telemetry`), turns each reading into actions with `step`
 * and publishes them to `ext/<unit>/action`, after `delayMs` if given. Engine tests put it between iotload's producer and
 * consumer to exercise `consumer.external` without a broker.
 */
export async function foreignFlow(
  bus: string,
  step: FlowStep,
  options: { from?: string; delayMs?: number } = {},
): Promise<ForeignFlow> {
  const from = options.from ?? 'ext/+/telemetry'
  const client = await memoryPlugin.connect(memoryPlugin.configSchema.parse({ bus }), createTestContext())
  let seen = 0
  await client.subscribe(
    from,
    (m) => {
      seen++
      const telemetry = JSON.parse(Buffer.from(m.payload).toString()) as Record<string, unknown>
      const unit = m.topic.split('/')[1]!
      const out = step(telemetry, unit)
      if (out === undefined) return
      const send = () => {
        for (const action of Array.isArray(out) ? out : [out])
          void client.publish(`ext/${unit}/action`, { payload: Buffer.from(JSON.stringify(action)), qos: 1 })
      }
      if (options.delayMs) setTimeout(send, options.delayMs)
      else send()
    },
    { qos: 1 },
  )
  return {
    get seen() {
      return seen
    },
    client,
    close: () => client.close(),
  }
}
