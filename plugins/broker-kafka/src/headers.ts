import type { IHeaders } from 'kafkajs'

/** kafkajs header values (Buffer, string or arrays of them) as the string map iotload uses. */
export function headersToStrings(headers: IHeaders | undefined): Record<string, string> | undefined {
  if (!headers) return undefined
  let out: Record<string, string> | undefined
  for (const name in headers) {
    const v = headers[name]
    if (v === undefined) continue
    out ??= {}
    out[name] = Array.isArray(v) ? v.map((x) => x.toString()).join(',') : v.toString()
  }
  return out
}
