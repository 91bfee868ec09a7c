import { type BinaryClient, BrokerError } from './binary-client.ts'
import { lookupFrame, ServerError } from './commands.ts'

const CONNECT = 1

/**
 * Looks the topic up on the client's broker, which makes the broker take ownership of it (a
 * PRODUCER or SUBSCRIBE for a topic no broker owns yet is refused), then runs `create` there.
 * The binary transport talks through the service URL only: a standalone broker or a Pulsar proxy
 * answers for every topic. When a cluster's lookup names another broker and the command is
 * refused as ServiceNotReady, the error says so.
 */
export async function onOwner<T>(client: BinaryClient, topic: string, create: () => Promise<T>): Promise<T> {
  const r = await client.request((rid) => lookupFrame(topic, rid))
  const l = r.lookup
  const elsewhere =
    l !== undefined &&
    !l.proxyThroughServiceUrl &&
    l.brokerUrl !== undefined &&
    (l.response !== CONNECT || !sameEndpoint(l.brokerUrl, client.env.host, client.env.port))
      ? l.brokerUrl
      : undefined
  try {
    return await create()
  } catch (err) {
    if (elsewhere !== undefined && err instanceof BrokerError && err.code === ServerError.ServiceNotReady)
      throw new BrokerError(
        err.code,
        `${err.message} (the lookup named ${elsewhere}; the binary transport talks to its URL only: point it at a Pulsar proxy, or at that broker)`,
      )
    throw err
  }
}

function sameEndpoint(url: string, host: string, port: number): boolean {
  try {
    const u = new URL(url)
    return u.hostname === host && Number(u.port) === port
  } catch {
    return false
  }
}
