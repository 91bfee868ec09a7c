import { ConfigError, type ConnectionRole } from '@iotload/sdk'
import type * as Zmq from 'zeromq'
import type { ZeromqCurveOptions } from './config.ts'
import type { SocketPlan } from './socket-plan.ts'

/**
 * Sets CURVE options before bind/connect. The binding side is the CURVE server and needs only the
 * server secret key; a connecting side is a client and needs the server public key. Without
 * configured client keys the client uses an ephemeral pair (no ZAP handler checks client keys).
 */
export function applyCurve(
  zmq: typeof Zmq,
  sock: Zmq.Socket,
  curve: ZeromqCurveOptions,
  plan: SocketPlan,
  role: ConnectionRole,
): void {
  if (!zmq.capability.curve) {
    throw new ConfigError('broker.curve', 'this zeromq build has no CURVE support', {
      source: 'broker-zeromq',
    })
  }
  if (plan.side === 'bind') {
    if (!curve.serverSecretKey) {
      throw new ConfigError(
        'broker.curve.serverSecretKey',
        `role '${role}' binds and so is the CURVE server; it needs the server secret key`,
        { source: 'broker-zeromq' },
      )
    }
    sock.curveServer = true
    sock.curveSecretKey = curve.serverSecretKey
    return
  }
  if (!curve.serverPublicKey) {
    throw new ConfigError(
      'broker.curve.serverPublicKey',
      `role '${role}' connects and so is a CURVE client; it needs the server public key`,
      { source: 'broker-zeromq' },
    )
  }
  const client =
    curve.clientPublicKey && curve.clientSecretKey
      ? { publicKey: curve.clientPublicKey, secretKey: curve.clientSecretKey }
      : zmq.curveKeyPair()
  sock.curveServerKey = curve.serverPublicKey
  sock.curvePublicKey = client.publicKey
  sock.curveSecretKey = client.secretKey
}
