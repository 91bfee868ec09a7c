import { durationMsSchema, tlsSchema, tlsSchemeProblem } from '@iotload/sdk'
import { z } from 'zod'

/** The scenario's `broker:` section for `plugin: mqtt` (minus `plugin` and `auth`). */
export const mqttConfigSchema = z
  .object({
    /** Broker URL: mqtt://, mqtts://, ws://, wss://. */
    url: z
      .string()
      .regex(
        /^(mqtts?|wss?|tcp|ssl|tls):\/\/[^\s]+$/,
        'expected mqtt://host:port, mqtts://, ws:// or wss://',
      ),
    /** MQTT protocol version. @default '5' */
    version: z.enum(['3.1.1', '5']).default('5'),
    /** Clean session (3.1.1) / clean start (5). `false` keeps a persistent session. @default true */
    clean: z.boolean().default(true),
    /** MQTT 5 session expiry for persistent sessions, seconds. @default 0 */
    sessionExpiry: z.number().int().min(0).default(0),
    /** Keep-alive, seconds. @default 60 */
    keepalive: z.number().int().min(0).max(65535).default(60),
    /** Give up connecting after this long. @default '10s' */
    connectTimeout: durationMsSchema.default(10_000),
    /** Delay between reconnect attempts after a connection loss. @default '1s' */
    reconnectPeriod: durationMsSchema.default(1000),
    /** Set the retain flag on published messages. @default false */
    retain: z.boolean().default(false),
    /** MQTT 5 message expiry: the broker drops a message not delivered within this time, e.g. '60s'. */
    messageExpiry: durationMsSchema
      .refine((ms) => ms >= 1000, 'at least 1s (MQTT counts whole seconds)')
      .optional(),
    /**
     * MQTT 5 topic aliases: each connection sends its topic once, then a 2-byte alias (when the
     * broker grants aliases in CONNACK). @default false
     */
    topicAliases: z.boolean().default(false),
    tls: tlsSchema.optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    const problem = tlsSchemeProblem(c.url, c.tls, ['mqtts', 'wss', 'ssl', 'tls'])
    if (problem) ctx.addIssue({ code: 'custom', path: ['tls'], message: problem })
    if (c.version !== '5')
      for (const key of ['messageExpiry', 'topicAliases'] as const)
        if (c[key] !== undefined && c[key] !== false)
          ctx.addIssue({ code: 'custom', path: [key], message: "an MQTT 5 feature: set version: '5'" })
  })

/** Parsed MQTT plugin config. */
export type MqttConfig = z.output<typeof mqttConfigSchema>
