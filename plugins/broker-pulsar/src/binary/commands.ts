import { crc32c } from './crc32c.ts'
import { ProtoReader, ProtoWriter } from './protobuf.ts'

/**
 * Pulsar binary protocol commands (PulsarApi.proto's BaseCommand) that iotload sends and reads,
 * with their field numbers, and the frame layouts:
 * simple  `[total u32][cmdSize u32][BaseCommand]`,
 * payload `[total][cmdSize][BaseCommand][0x0e01][crc32c u32][metaSize u32][MessageMetadata][payload]`.
 */
export const Cmd = {
  CONNECT: 2,
  CONNECTED: 3,
  SUBSCRIBE: 4,
  PRODUCER: 5,
  SEND: 6,
  SEND_RECEIPT: 7,
  SEND_ERROR: 8,
  MESSAGE: 9,
  ACK: 10,
  FLOW: 11,
  SUCCESS: 13,
  ERROR: 14,
  CLOSE_PRODUCER: 15,
  CLOSE_CONSUMER: 16,
  PRODUCER_SUCCESS: 17,
  PING: 18,
  PONG: 19,
  REDELIVER_UNACKNOWLEDGED_MESSAGES: 20,
  LOOKUP: 23,
  LOOKUP_RESPONSE: 24,
  AUTH_CHALLENGE: 36,
  AUTH_RESPONSE: 37,
} as const

/** ServerError codes iotload tells apart. */
export const ServerError = {
  AuthenticationError: 3,
  AuthorizationError: 4,
  ConsumerBusy: 5,
  ServiceNotReady: 6,
  TopicNotFound: 11,
  ProducerBusy: 16,
  InvalidTopicName: 17,
} as const

/** CommandSubscribe.SubType */
export const SubTypeCode = { Exclusive: 0, Shared: 1, Failover: 2, Key_Shared: 3 } as const

/** Protocol version announced in CONNECT (Pulsar 2.x+ brokers speak it). */
export const PROTOCOL_VERSION = 15
export const CLIENT_VERSION = 'iotload-pulsar-binary'
const PAYLOAD_MAGIC = 0x0e01
const BROKER_ENTRY_MAGIC = 0x0e02

/** Credentials as the CONNECT command carries them. */
export interface AuthData {
  method: string
  data: Uint8Array
}

const scratch = new ProtoWriter(512)

/** Frames one BaseCommand written by `body` (type field 1, the command in field `type`). */
function simpleFrame(type: number, body: (w: ProtoWriter) => void): Buffer {
  scratch.reset().uint(1, type)
  scratch.message(type, body)
  const n = scratch.length
  const frame = Buffer.allocUnsafe(8 + n)
  frame.writeUInt32BE(4 + n, 0)
  frame.writeUInt32BE(n, 4)
  scratch.copyTo(frame, 8)
  return frame
}

/** CONNECT; through a Pulsar proxy, `proxyToBroker` turns the connection into a pipe to that broker. */
export function connectFrame(auth: AuthData | undefined, proxyToBroker?: string): Buffer {
  return simpleFrame(Cmd.CONNECT, (w) => {
    w.string(1, CLIENT_VERSION)
    if (auth) w.string(5, auth.method).bytes(3, auth.data)
    w.uint(4, PROTOCOL_VERSION)
    if (proxyToBroker !== undefined) w.string(6, proxyToBroker)
  })
}

export function authResponseFrame(auth: AuthData): Buffer {
  return simpleFrame(Cmd.AUTH_RESPONSE, (w) => {
    w.string(1, CLIENT_VERSION)
    w.message(2, (a) => a.string(1, auth.method).bytes(2, auth.data))
    w.uint(3, PROTOCOL_VERSION)
  })
}

export function pingFrame(): Buffer {
  return simpleFrame(Cmd.PING, () => undefined)
}

export function pongFrame(): Buffer {
  return simpleFrame(Cmd.PONG, () => undefined)
}

export function lookupFrame(topic: string, requestId: number): Buffer {
  return simpleFrame(Cmd.LOOKUP, (w) => w.string(1, topic).uint(2, requestId))
}

export function producerFrame(topic: string, producerId: number, requestId: number): Buffer {
  return simpleFrame(Cmd.PRODUCER, (w) => w.string(1, topic).uint(2, producerId).uint(3, requestId))
}

export function closeProducerFrame(producerId: number, requestId: number): Buffer {
  return simpleFrame(Cmd.CLOSE_PRODUCER, (w) => w.uint(1, producerId).uint(2, requestId))
}

/** What SUBSCRIBE asks for. */
export interface SubscribeRequest {
  topic: string
  subscription: string
  subType: number
  consumerId: number
  requestId: number
  consumerName: string
  durable: boolean
  /** 0 Latest, 1 Earliest */
  initialPosition: number
}

export function subscribeFrame(s: SubscribeRequest): Buffer {
  return simpleFrame(Cmd.SUBSCRIBE, (w) => {
    w.string(1, s.topic).string(2, s.subscription).uint(3, s.subType)
    w.uint(4, s.consumerId).uint(5, s.requestId).string(6, s.consumerName)
    w.bool(8, s.durable).uint(13, s.initialPosition)
  })
}

export function flowFrame(consumerId: number, permits: number): Buffer {
  return simpleFrame(Cmd.FLOW, (w) => w.uint(1, consumerId).uint(2, permits))
}

/**
 * Individual acks for one or more messages in one command (brokers since protocol v12 take a
 * list); each id is the MessageIdData bytes its MESSAGE command carried.
 */
export function ackFrame(consumerId: number, messageIds: readonly Uint8Array[]): Buffer {
  return simpleFrame(Cmd.ACK, (w) => {
    w.uint(1, consumerId).uint(2, 0)
    for (const id of messageIds) w.bytes(3, id)
  })
}

export function redeliverFrame(consumerId: number, messageId: Uint8Array): Buffer {
  return simpleFrame(Cmd.REDELIVER_UNACKNOWLEDGED_MESSAGES, (w) => w.uint(1, consumerId).bytes(2, messageId))
}

export function closeConsumerFrame(consumerId: number, requestId: number): Buffer {
  return simpleFrame(Cmd.CLOSE_CONSUMER, (w) => w.uint(1, consumerId).uint(2, requestId))
}

/** One message to SEND. */
export interface SendRequest {
  producerId: number
  sequenceId: number
  /** UTF-8 bytes of the producer name the broker assigned. */
  producerName: Buffer
  publishTime: number
  key: string | undefined
  properties: Record<string, string> | undefined
  payload: Uint8Array
}

const meta = new ProtoWriter(256)

/** A SEND payload frame with its CRC-32C, in one new buffer (the socket keeps it until written). */
export function sendFrame(s: SendRequest): Buffer {
  scratch.reset().uint(1, Cmd.SEND)
  scratch.message(Cmd.SEND, (w) => w.uint(1, s.producerId).uint(2, s.sequenceId))
  meta.reset().bytes(1, s.producerName).uint(2, s.sequenceId).uint(3, s.publishTime)
  const props = s.properties
  if (props !== undefined)
    for (const k in props) meta.message(4, (kv) => kv.string(1, k).string(2, props[k] as string))
  if (s.key !== undefined) meta.string(6, s.key)
  const cmdSize = scratch.length
  const metaSize = meta.length
  const payload = s.payload
  const total = 4 + cmdSize + 2 + 4 + 4 + metaSize + payload.length
  const frame = Buffer.allocUnsafe(4 + total)
  frame.writeUInt32BE(total, 0)
  frame.writeUInt32BE(cmdSize, 4)
  let at = scratch.copyTo(frame, 8)
  frame.writeUInt16BE(PAYLOAD_MAGIC, at)
  const crcAt = at + 2
  const checked = at + 6
  frame.writeUInt32BE(metaSize, checked)
  at = meta.copyTo(frame, checked + 4)
  frame.set(payload, at)
  frame.writeUInt32BE(crc32c(frame, checked), crcAt)
  return frame
}

/** One decoded frame: the command's type, a reader over its body, and the payload section. */
export interface InboundFrame {
  type: number
  body: ProtoReader
  /** Bytes after the command (payload commands only), empty otherwise. */
  payload: Uint8Array
}

/** Decodes one frame's command (`frame` excludes the leading total-size field). */
export function decodeFrame(frame: Uint8Array): InboundFrame {
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength)
  const cmdSize = view.getUint32(0)
  const cmdEnd = 4 + cmdSize
  if (cmdEnd > frame.length) throw new Error(`command of ${cmdSize} bytes in a ${frame.length}-byte frame`)
  const r = new ProtoReader(frame, 4, cmdEnd)
  let type = 0
  let body: ProtoReader | undefined
  while (r.next()) {
    if (r.field === 1) type = r.uint()
    else if (type !== 0 && r.field === type) body = r.message()
    else r.skip()
  }
  return { type, body: body ?? new ProtoReader(new Uint8Array(0)), payload: frame.subarray(cmdEnd) }
}

/** The metadata and body of a payload section, after its optional broker-entry metadata and checksum. */
export interface PayloadSection {
  metadata: ProtoReader
  body: Uint8Array
  /** False when a checksum was present and did not match. */
  checksumOk: boolean
}

export function decodePayloadSection(section: Uint8Array): PayloadSection {
  const view = new DataView(section.buffer, section.byteOffset, section.byteLength)
  let at = 0
  if (section.length >= 6 && view.getUint16(0) === BROKER_ENTRY_MAGIC) at = 6 + view.getUint32(2)
  let checksumOk = true
  if (section.length >= at + 6 && view.getUint16(at) === PAYLOAD_MAGIC) {
    const expected = view.getUint32(at + 2)
    at += 6
    checksumOk = crc32c(section, at) === expected
  }
  const metaSize = view.getUint32(at)
  const metaEnd = at + 4 + metaSize
  if (metaEnd > section.length) throw new Error('message metadata runs past the frame')
  return { metadata: new ProtoReader(section, at + 4, metaEnd), body: section.subarray(metaEnd), checksumOk }
}
