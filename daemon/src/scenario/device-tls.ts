import { ConfigError } from '@iotload/sdk'
import { readAllowedFile } from './allowed-files.ts'
import { compileTextTemplate } from './text-template.ts'
import type { TrustPolicy } from './trust-policy.ts'

/** Per-device client certificate paths: `broker.tls.cert: certs/{device}.pem`, `key: certs/{device}.key`. */
export interface DeviceTlsTemplates {
  cert?: string
  key?: string
}

/** A PEM file is a few KiB; a chain a little more. */
const MAX_DEVICE_PEM_BYTES = 256 * 1024

/**
 * Takes `tls.cert`/`tls.key` out of a broker section when they are templated per device
 * (`{device}`): they are read per device when it connects, not once at validation. Returns the
 * templates (checked to compile), or undefined when the section has none.
 */
export function takeDeviceTlsTemplates(broker: unknown, path: string): DeviceTlsTemplates | undefined {
  if (broker === null || typeof broker !== 'object') return undefined
  const tls = (broker as Record<string, unknown>).tls
  if (tls === null || typeof tls !== 'object' || Array.isArray(tls)) return undefined
  const t = tls as Record<string, unknown>
  const out: DeviceTlsTemplates = {}
  for (const field of ['cert', 'key'] as const) {
    const v = t[field]
    if (typeof v !== 'string' || !v.includes('{device}')) continue
    compileTextTemplate(v, `${path}.tls.${field}`)
    out[field] = v
    delete t[field]
  }
  if (out.cert === undefined && out.key === undefined) return undefined
  if ((out.cert === undefined) !== (out.key === undefined))
    throw new ConfigError(
      `${path}.tls.${out.cert === undefined ? 'cert' : 'key'}`,
      'a per-device certificate needs its key templated per device too (both with {device})',
    )
  return out
}

/**
 * Reads one device's PEM file under the sender's policy (a remote scenario: only inside the
 * daemon's --secrets-dir). Errors name the device and the path, never the content.
 */
export async function readDevicePem(path: string, field: string, policy: TrustPolicy): Promise<string> {
  const data = await readAllowedFile(path, { policy, dir: 'secrets', field, maxBytes: MAX_DEVICE_PEM_BYTES })
  const text = data.toString('utf8')
  if (!text.includes('-----BEGIN'))
    throw new ConfigError(field, `'${path}' holds no PEM block (-----BEGIN …)`)
  return text
}
