import {
  type BrokerConnection,
  type DecodedMeta,
  decodeEnvelope,
  type InboundMessage,
  runTag,
  type Subscription,
} from '@iotload/sdk'
import type { ResolvedScenario } from '../scenario/load-scenario.ts'
import { compileTextTemplate } from '../scenario/text-template.ts'
import { ABSENT_CONNECTION } from './absent-connection.ts'
import type { EngineClock } from './clock.ts'
import type { RunRecorder } from './recorder.ts'

/** The stream of device-side round trips: send → consumer's answer back at the device. */
export const RTT_STREAM = 'rtt'

/**
 * The device side of a command round trip (`producer.replyTopic`): each device listens on its own
 * reply topic, and an answer carrying one of its messages (the envelope comes back intact)
 * records `rtt` from that message's send time (raw) and intended time (corrected). Warm-up
 * answers are not measured; answers that are not this run's are ignored.
 */
export async function subscribeReplies(
  connections: BrokerConnection[],
  topics: string[],
  o: { runId: string; recorder: RunRecorder; clock: EngineClock; qos: 0 | 1 | 2 },
): Promise<Subscription[]> {
  const tag = runTag(o.runId)
  const rtt = o.recorder.stream(RTT_STREAM, true)
  const onReply = (msg: InboundMessage) => {
    const recvUs = o.clock.nowUs()
    const r = decodeEnvelope(msg.payload)
    if (!r.ok || r.meta.tag !== tag || r.meta.warmup) return
    const raw = recvUs - r.meta.t
    if (raw >= 0) rtt.record(raw, recvUs - r.meta.ti)
  }
  const subs: Subscription[] = []
  for (const [i, conn] of connections.entries()) {
    if (conn === ABSENT_CONNECTION) continue
    subs.push(await conn.subscribe(topics[i]!, onReply, { qos: o.qos }))
  }
  return subs
}

/** Answers a consumed message on the connection that received it. */
export type Replier = (conn: BrokerConnection, msg: InboundMessage, meta: DecodedMeta) => void

/** Where one device group's answers go: its devices' ids, its reply topic, its QoS. */
interface ReplyRoute {
  fromDevice: number
  toDevice: number
  topicOf: (vars: { device: number; run: string }) => string
  qos: 0 | 1 | 2
}

/** The groups that set a reply topic, by their device ids (contiguous across groups). */
function replyRoutes(resolved: ResolvedScenario): ReplyRoute[] {
  const routes: ReplyRoute[] = []
  resolved.scenario.groups.forEach(({ config }, i) => {
    if (config.replyTopic === undefined) return
    const field = resolved.scenario.grouped ? `producers[${i}].replyTopic` : 'producer.replyTopic'
    routes.push({
      fromDevice: config.firstDevice,
      toDevice: config.firstDevice + config.devices,
      topicOf: compileTextTemplate(config.replyTopic, field),
      qos: config.qos,
    })
  })
  return routes
}

/**
 * The consumer's side: answers each of this run's messages to the device, on the MQTT 5 response
 * topic it carries or else its group's `replyTopic` rendered for the device, at its group's QoS,
 * echoing the payload (so the device finds its own send stamps). Undefined when no group sets a
 * `replyTopic`; a device of a group without one gets no answer. A failed answer is only missing
 * from `rtt`; the count of answers received shows it.
 */
export function consumerReplier(resolved: ResolvedScenario, runId: string): Replier | undefined {
  const routes = replyRoutes(resolved)
  if (routes.length === 0) return undefined
  return (conn, msg, meta) => {
    const route = routes.find((r) => meta.dev >= r.fromDevice && meta.dev < r.toDevice)
    if (route === undefined) return
    const topic = msg.responseTopic ?? route.topicOf({ device: meta.dev, run: runId })
    conn.publish(topic, { payload: msg.payload, qos: route.qos }).catch(() => {})
  }
}
