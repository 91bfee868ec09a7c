/** Process exit codes of the CLI. */
export const EXIT = {
  ok: 0,
  /** An SLO threshold failed. */
  sloFailed: 1,
  /** Bad input: scenario, flags, unknown plugin. Nothing was started. */
  badInput: 2,
  /** Runtime failure: broker unreachable, credentials refused, … */
  runtime: 3,
  /** Stopped by Ctrl-C (SIGINT) after printing and saving the partial results. */
  interrupted: 130,
  /** Stopped by SIGTERM after printing and saving the partial results. */
  terminated: 143,
} as const
