import { z } from 'zod'

/**
 * The scenario's `bridge:` section: consume `from`, republish to `to`. Topic templates share
 * placeholders, so `devices/{device}/telemetry` → `actions/{device}` keeps the device.
 */
export const bridgeConfigSchema = z
  .object({
    /** Topic template to consume; its placeholders become the plugin's single-level wildcard. */
    from: z.string().min(1),
    /** Topic template to publish to, filled from the captures of `from`. */
    to: z.string().min(1),
    /**
     * Broker to publish to, when it differs from the scenario's `broker` (cross-broker paths such as
     * MQTT in, NATS out). Same shape as `broker`, validated by that plugin.
     */
    broker: z.looseObject({ plugin: z.string().min(1) }).optional(),
    /** Messages processed at once; beyond it the bridge stops reading (back-pressure). @default 1000 */
    concurrency: z.number().int().min(1).max(100_000).default(1000),
  })
  .strict()

/** Parsed `bridge:` section. */
export type BridgeConfig = z.output<typeof bridgeConfigSchema>
