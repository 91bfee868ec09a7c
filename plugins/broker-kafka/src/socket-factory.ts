import { isIP, connect as netConnect, type Socket } from 'node:net'
import { connect as tlsConnect } from 'node:tls'
import type { ConnectionStatus } from '@iotload/sdk'
import type { ISocketFactory } from 'kafkajs'

const KEEP_ALIVE_MS = 60_000

/** Options of `watchedSocketFactory`. */
export interface SocketFactoryOptions {
  /**
   * `host:port` the brokers advertise → `host:port` to dial instead (port forwards, NAT, proxies).
   * TLS still verifies against the advertised host name.
   */
  addressMap: Record<string, string>
  /** Whether the connection is being closed on purpose (then socket closes are not outages). */
  closing: () => boolean
  onStatus?: (status: ConnectionStatus, detail?: string) => void
}

/**
 * kafkajs' socket factory plus two things it lacks: dialling a mapped address instead of the
 * advertised one, and noticing connection loss. kafkajs reconnects silently on the next request
 * and a producer has no disconnect event at all, so the sockets themselves are watched: a socket
 * the server or network closed reports `disconnected` once, and the next socket that connects
 * reports `reconnected`.
 */
export function watchedSocketFactory(options: SocketFactoryOptions): ISocketFactory {
  let down = false
  return ({ host, port, ssl, onConnect }) => {
    const target = options.addressMap[`${host}:${port}`]
    const [dialHost, dialPort] = target ? splitHostPort(target) : [host, port]
    const connected = () => {
      if (down && !options.closing()) {
        down = false
        options.onStatus?.('reconnected')
      }
      onConnect()
    }
    const socket: Socket = ssl
      ? tlsConnect(
          { host: dialHost, port: dialPort, ...(isIP(host) ? {} : { servername: host }), ...ssl },
          connected,
        )
      : netConnect({ host: dialHost, port: dialPort }, connected)
    socket.setKeepAlive(true, KEEP_ALIVE_MS)
    // As the Java client does: a small produce or fetch request must not wait for Nagle.
    socket.setNoDelay(true)
    let wasOpen = false
    socket.once(ssl ? 'secureConnect' : 'connect', () => {
      wasOpen = true
    })
    let lost = false
    const onLoss = () => {
      if (lost || !wasOpen || down || options.closing()) return
      lost = true
      // kafkajs closes sockets itself only on disconnect(); anything else is an outage.
      down = true
      options.onStatus?.('disconnected', `lost ${host}:${port}`)
    }
    // At the first sign (end or error, not only close): these listeners run before kafkajs' own,
    // which may dial a new socket at once. Waiting for 'close' let that socket connect first, so
    // its `reconnected` never came (a busy machine ordered it so: the conformance recovery flake).
    socket.once('end', onLoss)
    socket.once('error', onLoss)
    socket.once('close', onLoss)
    return socket
  }
}

function splitHostPort(hostPort: string): [string, number] {
  const i = hostPort.lastIndexOf(':')
  return [hostPort.slice(0, i), Number(hostPort.slice(i + 1))]
}
