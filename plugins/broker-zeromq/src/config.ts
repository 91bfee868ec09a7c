import { secretField } from '@iotload/sdk'
import { z } from 'zod'

/** ZeroMQ transports that make sense between iotload roles (`inproc` only within one daemon). */
const address = z
  .string()
  .regex(/^(tcp|ipc|inproc):\/\/.+/, 'expected a ZeroMQ endpoint such as tcp://127.0.0.1:5555')

const addresses = z.union([address, z.array(address).min(1, 'expected at least one endpoint')])

/** A Z85-encoded CURVE key: 40 characters (32 bytes). */
const z85Key = () =>
  z.string().regex(/^[0-9a-zA-Z.\-:+=^!/*?&<>()[\]{}@%$#]{40}$/, 'expected a 40-character Z85 CURVE key')

/** Where one role's socket lives: it binds (listens) or connects, never both. */
export const endpointSchema = z
  .object({
    /** Address(es) this role's socket listens on. */
    bind: addresses.optional(),
    /** Address(es) this role's socket dials; ZeroMQ reconnects by itself. */
    connect: addresses.optional(),
    /**
     * Wait in `connect()` until a peer completed the ZMTP handshake (every `connect` address, or the
     * first peer of a sending `bind` socket). Turn off when the peer legitimately starts later.
     * Binding receivers never wait: their peers arrive whenever they like.
     * @default true
     */
    waitForPeer: z.boolean().default(true),
  })
  .strict()
  .superRefine((ep, ctx) => {
    if ((ep.bind === undefined) === (ep.connect === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'give exactly one of `bind` or `connect`', path: [] })
    }
  })

/** Roles that may have an entry under `endpoints`. */
export const endpointRoles = ['producer', 'consumer', 'bridge-in', 'bridge-out', 'probe'] as const

/**
 * CURVE security (encryption plus server authentication). The binding side of every hop is the
 * CURVE server; connecting sides are clients. Without a ZAP handler any client key is accepted,
 * so the client pair is optional (an ephemeral one is generated).
 */
export const curveSchema = z
  .object({
    /** Public key of the binding side; connecting sockets need it. */
    serverPublicKey: z85Key().optional(),
    /** Secret key of the binding side (secret); binding sockets need it. */
    serverSecretKey: secretField(z85Key()).optional(),
    /** Long-term client public key. @default an ephemeral pair per connection */
    clientPublicKey: z85Key().optional(),
    /** Long-term client secret key (secret). */
    clientSecretKey: secretField(z85Key()).optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    if ((c.clientPublicKey === undefined) !== (c.clientSecretKey === undefined)) {
      ctx.addIssue({
        code: 'custom',
        message: 'give both clientPublicKey and clientSecretKey, or neither',
        path: [c.clientPublicKey === undefined ? 'clientPublicKey' : 'clientSecretKey'],
      })
    }
    if (c.serverPublicKey === undefined && c.serverSecretKey === undefined) {
      ctx.addIssue({ code: 'custom', message: 'give serverPublicKey and/or serverSecretKey', path: [] })
    }
  })

const endpointsSchema = z
  .object({
    producer: endpointSchema.optional(),
    consumer: endpointSchema.optional(),
    'bridge-in': endpointSchema.optional(),
    'bridge-out': endpointSchema.optional(),
    probe: endpointSchema.optional(),
  })
  .strict()

/**
 * The scenario's `broker:` section for `plugin: zeromq` (minus `plugin` and `auth`).
 *
 * Either one `endpoint` shared by a producer and a consumer (the role named by `bind` listens,
 * every other role connects), or `endpoints` with an explicit bind/connect per role, which a
 * bridge topology needs.
 *
 * @example
 * { mode: 'pubsub', endpoints: {
 *     producer: { connect: 'tcp://127.0.0.1:5555' }, 'bridge-in': { bind: 'tcp://127.0.0.1:5555' },
 *     'bridge-out': { connect: 'tcp://127.0.0.1:5556' }, consumer: { bind: 'tcp://127.0.0.1:5556' } } }
 */
export const zeromqConfigSchema = z
  .object({
    /** `pubsub`: PUB/SUB fan-out with prefix subscriptions; `pushpull`: PUSH/PULL pipeline. @default 'pubsub' */
    mode: z.enum(['pubsub', 'pushpull']).default('pubsub'),
    /** Single endpoint for a two-party setup (no bridge). */
    endpoint: address.optional(),
    /** With `endpoint`: the role that binds it; the other roles connect. @default 'consumer' */
    bind: z.enum(endpointRoles).optional(),
    /** Explicit endpoint per role. */
    endpoints: endpointsSchema.optional(),
    /** CURVE encryption and server authentication. */
    curve: curveSchema.optional(),
    /** Separates topic levels for the '+'/'#' wildcards. @default '/' */
    topicSeparator: z.string().min(1).default('/'),
    /** How long `connect()` waits for a peer handshake before failing. @default 5000 */
    connectTimeoutMs: z.number().int().positive().default(5000),
    /**
     * Slow-joiner settle time: a SUB's `subscribe()` waits this long so the subscription reaches its
     * publishers, and a publisher waits up to this long for the first subscription after its handshake.
     * @default 100
     */
    settleMs: z.number().int().nonnegative().default(100),
    /** ZMQ_SNDHWM: messages queued per peer before PUB drops or PUSH blocks. @default 1000 (libzmq) */
    sendHighWaterMark: z.number().int().nonnegative().optional(),
    /** ZMQ_RCVHWM: messages queued per peer on the receiving side. @default 1000 (libzmq) */
    receiveHighWaterMark: z.number().int().nonnegative().optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    if ((c.endpoint === undefined) === (c.endpoints === undefined)) {
      ctx.addIssue({
        code: 'custom',
        message: 'give exactly one of `endpoint` or `endpoints`',
        path: ['endpoints'],
      })
    }
    if (c.bind !== undefined && c.endpoint === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: '`bind` only applies with a single `endpoint`',
        path: ['bind'],
      })
    }
    if (c.endpoints && Object.keys(c.endpoints).length === 0) {
      ctx.addIssue({ code: 'custom', message: 'name at least one role', path: ['endpoints'] })
    }
  })

/** Parsed `broker:` section of a ZeroMQ scenario. */
export type ZeromqConfig = z.output<typeof zeromqConfigSchema>
/** Parsed endpoint entry of one role. */
export type ZeromqEndpointOptions = z.output<typeof endpointSchema>
/** Parsed `curve` section. */
export type ZeromqCurveOptions = z.output<typeof curveSchema>
