import { afterEach, beforeEach, describe, expect } from 'vitest'
import type { BrokerPlugin } from '../plugin.ts'
import { Harness } from './harness.ts'
import { leakedSecrets } from '../testing/collecting-logger.ts'
import { type ConformanceOptions, resolveOptions, secretValues } from './options.ts'
import { registerConnectionTests } from './suite-connection.ts'
import type { SuiteContext } from './suite-context.ts'
import { registerMessagingTests } from './suite-messaging.ts'

/**
 * Registers the shared broker conformance suite as a `describe` block. Call it at the top level of
 * a vitest file, inside your own `describe.skipIf(!up)` when the server may be missing.
 *
 * @example
 * const up = await requireService('NATS', '127.0.0.1', 4222)
 * describe.skipIf(!up)('nats', () => {
 *   testBrokerPlugin(nats, { config: { url: 'nats://127.0.0.1:4222' }, topic: (s) => `conf.${run}.${s}` })
 * })
 */
export function testBrokerPlugin(plugin: BrokerPlugin, options: ConformanceOptions): void {
  const resolved = resolveOptions(options)
  const secrets = secretValues(resolved)
  let harness: Harness | undefined
  const ctx: SuiteContext = {
    plugin,
    options: resolved,
    secrets,
    harness() {
      if (!harness) throw new Error('conformance harness used outside a test')
      return harness
    },
  }

  describe(resolved.name ?? `${plugin.name} conformance`, () => {
    beforeEach(() => {
      harness = new Harness(plugin)
    })
    afterEach(async () => {
      const h = harness!
      harness = undefined
      await h.closeAll()
      expect(leakedSecrets(h.logger.lines, secrets), 'credential values in plugin log lines').toEqual([])
    })
    registerMessagingTests(ctx)
    registerConnectionTests(ctx)
  })
}
