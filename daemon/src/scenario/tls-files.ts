import { ConfigError } from '@iotload/sdk'
import { readAllowedFile } from './allowed-files.ts'
import type { TrustPolicy } from './trust-policy.ts'

/** TLS fields that may name a PEM file instead of holding PEM text. */
const PEM_FIELDS = ['ca', 'cert', 'key'] as const
/** A CA bundle can be a few hundred KiB; nothing TLS needs is larger. */
const MAX_PEM_BYTES = 1024 * 1024

/**
 * Reads the PEM files a broker section's `tls` names and puts their text in place, so a missing
 * or unreadable file is a validation error naming the field (not a failed run later), and a
 * remote scenario can only name files inside the daemon's --secrets-dir. Private keys are added
 * to `found`, the run's secrets.
 */
export async function inlineTlsFiles(
  broker: unknown,
  path: string,
  policy: TrustPolicy,
  found: string[],
): Promise<void> {
  if (broker === null || typeof broker !== 'object') return
  const tls = (broker as Record<string, unknown>).tls
  if (tls === null || typeof tls !== 'object' || Array.isArray(tls)) return
  const t = tls as Record<string, unknown>
  for (const field of PEM_FIELDS) {
    const value = t[field]
    // A reference resolves later, to PEM text (checked by checkTlsIsPem).
    if (typeof value !== 'string' || value === '' || value.includes('-----BEGIN') || value.includes('${'))
      continue
    const data = await readAllowedFile(value, {
      policy,
      dir: 'secrets',
      field: `${path}.tls.${field}`,
      maxBytes: MAX_PEM_BYTES,
    })
    const text = data.toString('utf8')
    if (!text.includes('-----BEGIN'))
      throw new ConfigError(`${path}.tls.${field}`, `'${value}' holds no PEM block (-----BEGIN …)`)
    t[field] = text
    if (field === 'key') found.push(text)
  }
}

/**
 * After references resolved: every PEM field holds PEM text. Whatever else is there came from a
 * reference (paths were read before), so the error names the field and never quotes the value.
 */
export function checkTlsIsPem(broker: unknown, path: string): void {
  if (broker === null || typeof broker !== 'object') return
  const tls = (broker as Record<string, unknown>).tls
  if (tls === null || typeof tls !== 'object' || Array.isArray(tls)) return
  for (const field of PEM_FIELDS) {
    const value = (tls as Record<string, unknown>)[field]
    if (typeof value === 'string' && value !== '' && !value.includes('-----BEGIN'))
      throw new ConfigError(
        `${path}.tls.${field}`,
        'a ${env:…} or ${file:…} reference here must resolve to PEM text (-----BEGIN …); name a PEM file directly to read it',
      )
  }
}
