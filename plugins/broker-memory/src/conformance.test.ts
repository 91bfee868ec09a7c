import { testBrokerPlugin } from '@iotload/sdk/conformance'
import { memoryBus } from './memory-bus.ts'
import { memoryPlugin } from './plugin.ts'

// In-process: no server to require, no TLS or credentials to check; the recovery test gets its
// outage from the bus instead of a TCP proxy.
const bus = `conformance-${process.pid}`

for (const latency of [0, '2ms']) {
  testBrokerPlugin(memoryPlugin, {
    name: `memory conformance (latency ${latency})`,
    config: { bus, latency },
    topic: (s) => `conf/${latency}/${s}`,
    wildcard: {
      filter: `conf/${latency}/wild/+`,
      topics: [`conf/${latency}/wild/a`, `conf/${latency}/wild/b`],
    },
    outage: { inject: () => memoryBus(bus).outage(200) },
    settleMs: 0,
    timeoutMs: 10_000,
  })
}
