import { describe, expect, it } from 'vitest'
import { memoryPlugin as plugin } from './plugin.ts'

describe('memory brokerHosts: where run.workers auto looks for the broker', () => {
  it('names the hosts the config reaches', () => {
    expect(plugin.brokerHosts?.(plugin.configSchema.parse({}))).toEqual([])
  })
})
