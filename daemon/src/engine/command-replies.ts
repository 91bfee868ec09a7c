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

/**
 * The consumer's side: answers each of this run's messages to the device, on the MQTT 5 response
 * topic it carries or else `producer.replyTopic` rendered for its device, echoing the payload
 * (so the device finds its own send stamps). Undefined without `producer.replyTopic`. A failed
 * answer is only missing from `rtt`; the count of answers received shows it.
 */
export function consumerReplier(resolved: ResolvedScenario, runId: string): Replier | undefined {
  const template = resolved.scenario.producer.replyTopic
  if (template === undefined) return undefined
  const topicOf = compileTextTemplate(template, 'producer.replyTopic')
  const qos = resolved.scenario.producer.qos
  return (conn, msg, meta) => {
    const topic = msg.responseTopic ?? topicOf({ device: meta.dev, run: runId })
    conn.publish(topic, { payload: msg.payload, qos }).catch(() => {})
  }
}
