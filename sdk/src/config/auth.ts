import { z } from 'zod'

/**
 * The scenario's `broker.auth` section. Values may be templated per device (`dev-{device}`) and
 * may come from `${env:NAME}` or `${file:PATH}`; the daemon renders them into
 * `PluginContext.credentials` for each connection.
 */
export const authSchema = z
  .object({
    username: z.string().optional(),
    /** Secret. */
    password: z.string().optional(),
    /** Bearer/JWT token (secret), for brokers that take one instead of a password. */
    token: z.string().optional(),
  })
  .strict()

/** Parsed `broker.auth` section. */
export type AuthConfig = z.output<typeof authSchema>
