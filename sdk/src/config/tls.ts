import { readFile } from 'node:fs/promises'
import { z } from 'zod'
import { ConfigError } from '../errors.ts'

/** PEM text inline, or a path to a PEM file. */
const pemSource = z.string().min(1, 'expected PEM text or a file path')

/**
 * The `tls` section every plugin accepts. Verification is on unless `verify: false` is given.
 */
export const tlsSchema = z
  .object({
    /** CA bundle that signs the broker certificate; system CAs when absent. */
    ca: pemSource.optional(),
    /** Client certificate, for mutual TLS. */
    cert: pemSource.optional(),
    /** Client private key (secret). */
    key: pemSource.optional(),
    /** Passphrase of the private key (secret). */
    passphrase: z.string().optional(),
    /** Verify the broker's certificate chain and host name. @default true */
    verify: z.boolean().default(true),
    /** SNI / expected host name, when it differs from the URL host. */
    servername: z.string().optional(),
  })
  .strict()

/** Parsed `tls` section. */
export type TlsConfig = z.output<typeof tlsSchema>

/** Node `tls.connect` options, with PEM material loaded. */
export interface TlsMaterial {
  ca?: Buffer
  cert?: Buffer
  key?: Buffer
  passphrase?: string
  rejectUnauthorized: boolean
  servername?: string
}

async function loadPem(value: string | undefined, field: string): Promise<Buffer | undefined> {
  if (value === undefined) return undefined
  if (value.includes('-----BEGIN')) return Buffer.from(value)
  try {
    return await readFile(value)
  } catch (err) {
    throw new ConfigError(`broker.tls.${field}`, `cannot read file '${value}'`, { cause: err })
  }
}

/** Reads the PEM files a `tls` section names. */
export async function loadTlsMaterial(tls: TlsConfig): Promise<TlsMaterial> {
  const [ca, cert, key] = await Promise.all([
    loadPem(tls.ca, 'ca'),
    loadPem(tls.cert, 'cert'),
    loadPem(tls.key, 'key'),
  ])
  const material: TlsMaterial = { rejectUnauthorized: tls.verify }
  if (ca) material.ca = ca
  if (cert) material.cert = cert
  if (key) material.key = key
  if (tls.passphrase !== undefined) material.passphrase = tls.passphrase
  if (tls.servername !== undefined) material.servername = tls.servername
  return material
}

/**
 * The scheme rule every plugin applies: a `tls` section on a plain-text URL is an error, not a
 * silently unencrypted connection that sends the password in clear. Returns the message, or
 * undefined when the pair is consistent.
 * @example tlsSchemeProblem('mqtt://h:1883', {…}, ['mqtts', 'wss', 'ssl', 'tls']) // → 'tls is set but …'
 */
export function tlsSchemeProblem(
  url: string | undefined,
  tls: unknown,
  secureSchemes: readonly string[],
): string | undefined {
  if (tls === undefined || url === undefined) return undefined
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase()
  if (scheme === undefined || secureSchemes.includes(scheme)) return undefined
  return `tls is set but the URL is ${scheme}://, which is not encrypted; use ${secureSchemes.map((s) => `${s}://`).join(' or ')}`
}
