/**
 * A broker plugin for one test: publishes go nowhere (and succeed), and two seconds after its
 * connection opened, the thread it runs in throws an uncaught error, as a plugin bug would.
 * Loaded by path (the CLI's policy allows that), in the worker threads of a sharded run.
 */
import { definePlugin } from '@iotload/sdk'
import { z } from 'zod'

export default definePlugin({
  name: 'crashing',
  configSchema: z.object({ crashAfterMs: z.number().default(2000) }).strict(),
  capabilities: { headers: false, publishAck: false, wildcards: false },
  async connect(config) {
    const timer = setTimeout(() => {
      throw new Error('crashing plugin: deliberate uncaught error')
    }, config.crashAfterMs)
    return {
      publish: async () => undefined,
      subscribe: async () => ({ unsubscribe: async () => undefined }),
      close: async () => {
        clearTimeout(timer)
      },
    }
  },
})
