import { ConfigError } from '@iotload/sdk'
import type { z } from 'zod'

/** One problem in a scenario or request body, with the dotted path of the field. */
export interface FieldIssue {
  path: string
  message: string
}

function joinPath(prefix: string, path: PropertyKey[]): string {
  const parts = path.map((p) => (typeof p === 'number' ? `[${p}]` : String(p)))
  let out = prefix
  for (const p of parts) out += p.startsWith('[') ? p : out ? `.${p}` : p
  return out
}

/** Flattens zod issues into path-qualified ones; unknown keys name the key itself. */
export function fieldIssues(error: z.ZodError, prefix = ''): FieldIssue[] {
  const issues: FieldIssue[] = []
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys)
        issues.push({ path: joinPath(prefix, [...issue.path, key]), message: 'unknown key' })
    } else if (issue.code === 'invalid_type' && issue.input === undefined) {
      issues.push({ path: joinPath(prefix, issue.path), message: `required (${issue.expected})` })
    } else {
      issues.push({ path: joinPath(prefix, issue.path), message: issue.message })
    }
  }
  return issues
}

/** Issues listed in one error: enough to fix a scenario, never a megabyte of unknown keys. */
export const MAX_LISTED_ISSUES = 20

/** A ConfigError listing the issues (at most MAX_LISTED_ISSUES), one per line, its `path` set to the first. */
export function configErrorFrom(error: z.ZodError, prefix = ''): ConfigError {
  const all = fieldIssues(error, prefix)
  const issues = all.slice(0, MAX_LISTED_ISSUES)
  const first = issues[0] ?? { path: prefix, message: 'invalid' }
  const more = issues
    .slice(1)
    .map((i) => `\n  ${i.path}: ${i.message}`)
    .join('')
  const rest = all.length > issues.length ? `\n  … and ${all.length - issues.length} more` : ''
  const err = new ConfigError(first.path, `${first.message}${more}${rest}`)
  return Object.assign(err, { issues })
}
