import { ConfigError, parseJsonPath } from '@iotload/sdk'
import { z } from 'zod'

/** How an external iPaaS wrote a timestamp (the origin one it copied, or its own leg stamps). */
export const timestampFormatSchema = z.enum(['epoch-us', 'epoch-ms', 'iso8601'])

/** A timestamp format. */
export type TimestampFormat = z.output<typeof timestampFormatSchema>

/** Names of the stamps an external iPaaS may write for the per-leg split. */
export const EXTERNAL_LEG_STAMPS = ['ipaas-in', 'ipaas-out'] as const

/** One leg stamp: a JSON path, with its format (a bare path takes `consumer.external.format`). */
const legStampSchema = z.union([
  z.string().min(1),
  z.object({ path: z.string().min(1), format: timestampFormatSchema }).strict(),
])

/** @default the number of in-flight ids the correlation table holds (24 bytes each, so 24 MiB). */
export const DEFAULT_CORRELATION_WINDOW = 1_048_576

/**
 * `consumer.external`: the messages come from a foreign flow engine (Camel, SnapLogic, Losant…),
 * not from iotload's bridge. Give exactly one way to find a message's send time:
 * - `envelopePath`: the flow passed iotload's envelope through, somewhere in its output;
 * - `correlationPath`: the flow kept only the id iotload put in the payload (`{msgid}`);
 * - `timestampPath` + `format`: the flow copied a timestamp (the seed's way).
 */
export const externalMetadataSchema = z
  .object({
    /** JSON path of a passed-through iotload envelope, e.g. `$.original.iotload`: native accounting, µs, co. */
    envelopePath: z.string().min(1).optional(),
    /** JSON path of the id rendered from `{msgid}`, e.g. `$.msgId`: matched to its send time by the producer. */
    correlationPath: z.string().min(1).optional(),
    /** In-flight ids the producer keeps, fleet-wide (24 bytes each). @default 1048576 */
    correlationWindow: z.number().int().min(1).max(100_000_000).optional(),
    /** JSON path of the origin send time, e.g. `$.original.lastUpdated`. */
    timestampPath: z.string().min(1).optional(),
    /** Encoding of that timestamp (and of bare leg paths). ISO-8601 keeps the fraction digits it carries. */
    format: timestampFormatSchema.optional(),
    /** JSON path of the device (`{device}`): an index, or a string ending in one (`tracker-7`). */
    devicePath: z.string().min(1).optional(),
    /** JSON path of the per-device sequence number (`{seq}`); needs `devicePath`. */
    seqPath: z.string().min(1).optional(),
    /** Stamps the flow writes when it takes a message in and when it sends the result: the per-leg split. */
    legs: z
      .object({ 'ipaas-in': legStampSchema.optional(), 'ipaas-out': legStampSchema.optional() })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    const issue = (path: Array<string>, message: string) => ctx.addIssue({ code: 'custom', path, message })
    const modes = (['envelopePath', 'correlationPath', 'timestampPath'] as const).filter(
      (k) => c[k] !== undefined,
    )
    if (modes.length !== 1)
      issue(
        modes.length === 0 ? [] : [modes[1]!],
        'give exactly one of envelopePath (the flow passes iotload’s envelope through), correlationPath (it keeps the {msgid} id) or timestampPath (it copies a timestamp)',
      )
    if (c.timestampPath !== undefined && c.format === undefined)
      issue(['format'], 'required with timestampPath: epoch-us, epoch-ms or iso8601')
    if (c.timestampPath === undefined) {
      for (const key of ['devicePath', 'seqPath'] as const)
        if (c[key] !== undefined)
          issue([key], 'only with timestampPath: an envelope or a {msgid} already carries device and seq')
    }
    if (c.seqPath !== undefined && c.devicePath === undefined && c.timestampPath !== undefined)
      issue(
        ['seqPath'],
        'needs devicePath: sequence numbers are per device, and without it every message is filed under one device',
      )
    if (c.correlationWindow !== undefined && c.correlationPath === undefined)
      issue(['correlationWindow'], 'only with correlationPath')
    for (const key of [
      'envelopePath',
      'correlationPath',
      'timestampPath',
      'devicePath',
      'seqPath',
    ] as const) {
      const path = c[key]
      if (path !== undefined) checkPath(path, [key], issue)
    }
    if (c.legs) {
      const named = EXTERNAL_LEG_STAMPS.filter((k) => c.legs![k] !== undefined)
      if (named.length === 0) issue(['legs'], 'name ipaas-in, ipaas-out or both')
      for (const k of named) {
        const stamp = c.legs[k]!
        if (typeof stamp === 'string') {
          checkPath(stamp, ['legs', k], issue)
          if (c.format === undefined)
            issue(
              ['legs', k],
              'give { path, format } (there is no consumer.external.format to take the format from)',
            )
        } else checkPath(stamp.path, ['legs', k, 'path'], issue)
      }
    }
  })

function checkPath(path: string, at: string[], issue: (path: string[], message: string) => void): void {
  try {
    parseJsonPath(path)
  } catch (err) {
    issue(at, (err as Error).message)
  }
}

/** Parsed `consumer.external`. */
export type ExternalMetadataConfig = z.output<typeof externalMetadataSchema>

/** A leg stamp with its format resolved. */
export interface LegStampConfig {
  path: string
  format: TimestampFormat
}

/** The configured leg stamps, each with its format. */
export function legStamps(
  c: ExternalMetadataConfig,
): Partial<Record<(typeof EXTERNAL_LEG_STAMPS)[number], LegStampConfig>> {
  const out: Partial<Record<(typeof EXTERNAL_LEG_STAMPS)[number], LegStampConfig>> = {}
  for (const k of EXTERNAL_LEG_STAMPS) {
    const s = c.legs?.[k]
    if (s === undefined) continue
    out[k] = typeof s === 'string' ? { path: s, format: c.format ?? 'epoch-us' } : s
  }
  return out
}

/**
 * What `consumer.external` asks of the producer, checked when the scenario loads: a correlation id
 * must be in the payload, and only a JSON envelope can be passed through inside a JSON message.
 * @throws ConfigError naming the producer field to change
 */
export function checkExternalAgainstProducer(
  external: ExternalMetadataConfig | undefined,
  producer: { payload: unknown; envelope: string },
): void {
  if (!external) return
  if (external.correlationPath !== undefined && !JSON.stringify(producer.payload).includes('{msgid}'))
    throw new ConfigError(
      'producer.payload',
      `consumer.external.correlationPath reads an id the flow copies from the payload: put a {msgid} placeholder in the payload (e.g. msgId: "{msgid}") and have the flow copy it to ${external.correlationPath}`,
    )
  if (external.envelopePath !== undefined && producer.envelope !== 'json')
    throw new ConfigError(
      'producer.envelope',
      'consumer.external.envelopePath reads iotload’s JSON envelope passed through by the flow: set producer.envelope: json',
    )
}
