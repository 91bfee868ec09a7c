import { type BrokerConnection, ConnectionError, describeError, type PluginContext } from '@iotload/sdk'
import type * as Zmq from 'zeromq'
import type { ZeromqConfig } from './config.ts'
import { type ReceiveSocket, type SendSocket, ZeromqConnection } from './connection.ts'
import { applyCurve } from './curve.ts'
import { PeerWatch } from './peer-watch.ts'
import { planSocket, type SocketPlan } from './socket-plan.ts'

const SOURCE = 'broker-zeromq'

type ZmqModule = typeof Zmq

/** Once per process: 500 devices need not repeat the same warning. */
let credentialsWarned = false

/**
 * Opens the one socket `ctx.role` owns: PUB (an XPUB, to see subscriptions arrive) or PUSH for
 * producers and bridge-out, SUB or PULL for consumers, bridge-in and probes.
 */
export async function openConnection(
  zmq: ZmqModule,
  config: ZeromqConfig,
  ctx: PluginContext,
): Promise<BrokerConnection> {
  const plan = planSocket(config, ctx.role)
  const sock = createSocket(zmq, plan, config.mode === 'pubsub')
  const { credentials } = ctx
  if (!credentialsWarned && (credentials?.username || credentials?.password || credentials?.token)) {
    credentialsWarned = true
    ctx.logger.warn('ZeroMQ has no username/password login here; broker.auth is ignored (use broker.curve)')
  }
  let watch: PeerWatch | undefined
  let conn: ZeromqConnection | undefined
  try {
    if (config.sendHighWaterMark !== undefined && 'sendHighWaterMark' in sock) {
      sock.sendHighWaterMark = config.sendHighWaterMark
    }
    if (config.receiveHighWaterMark !== undefined && 'receiveHighWaterMark' in sock) {
      sock.receiveHighWaterMark = config.receiveHighWaterMark
    }
    if (config.curve) applyCurve(zmq, sock, config.curve, plan, ctx.role)
    // Watch before bind/connect so no handshake event is missed.
    watch = new PeerWatch(sock, {
      plan,
      curve: config.curve !== undefined,
      handshakeEvents: zmq.capability.draft === true,
      ctx,
    })
    conn = new ZeromqConnection(sock, plan, config, ctx, watch)
    await attach(sock, plan)
    await watch.ready(config.connectTimeoutMs)
    await conn.settleFirstSubscriber()
    return conn
  } catch (err) {
    if (conn) await conn.close()
    else {
      watch?.stop()
      sock.linger = 0
      sock.close()
    }
    throw err
  }
}

function createSocket(zmq: ZmqModule, plan: SocketPlan, pubsub: boolean): SendSocket | ReceiveSocket {
  const options = { context: sharedContext(zmq) }
  try {
    if (plan.direction === 'send') return pubsub ? new zmq.XPublisher(options) : new zmq.Push(options)
    return pubsub ? new zmq.Subscriber(options) : new zmq.Pull(options)
  } catch (err) {
    // EMFILE: the process ran out of file descriptors (each socket needs several).
    throw new ConnectionError('unreachable', `cannot create a ZeroMQ socket: ${describeError(err)}`, {
      source: SOURCE,
      cause: err,
    })
  }
}

let context: Zmq.Context | undefined

/**
 * One context for every connection of the process. libzmq's default caps a context at 1023
 * sockets, and each connection costs three (its own plus the monitor pair behind `sock.events`),
 * so a few hundred devices would hit EMFILE; raise the cap to libzmq's limit. Not blocky, so a
 * lingering socket can never hold up process exit.
 */
function sharedContext(zmq: ZmqModule): Zmq.Context {
  context ??= new zmq.Context({ maxSockets: zmq.context.maxSocketsLimit, blocky: false })
  return context
}

async function attach(sock: Zmq.Socket, plan: SocketPlan): Promise<void> {
  for (const address of plan.addresses) {
    try {
      if (plan.side === 'bind') await sock.bind(address)
      else sock.connect(address)
    } catch (err) {
      throw new ConnectionError(
        'unreachable',
        `cannot ${plan.side} ${address} (${plan.path}): ${describeError(err)}`,
        {
          source: SOURCE,
          cause: err,
        },
      )
    }
  }
}
