/**
 * A broker plugin for one test: publishes go nowhere (and succeed), and the producer connections
 * of the devices in `refuse` are refused as bad credentials would be. Loaded by path (the CLI's
 * policy allows that), in the worker threads of a sharded run.
 */
import { ConnectionError, definePlugin } from '@iotload/sdk'
import { z } from 'zod'

export default definePlugin({
  name: 'refusing',
  configSchema: z.object({ refuse: z.array(z.number().int()).default([]) }).strict(),
  capabilities: { headers: false, publishAck: false, wildcards: false },
  async connect(config, ctx) {
    const device = Number(/-(\d+)$/.exec(ctx.clientId)?.[1])
    if (ctx.role === 'producer' && config.refuse.includes(device))
      throw new ConnectionError('auth', `device ${device} not authorised`)
    return {
      publish: async () => undefined,
      subscribe: async () => ({ unsubscribe: async () => undefined }),
      close: async () => undefined,
    }
  },
})
