import { hostname } from 'node:os'
import {
  type BridgeOptions,
  type BridgeStats,
  type InboundMessage,
  nowUs,
  type RunningBridge,
} from '@iotload/sdk'
import { Admission } from './admission.ts'
import { compileDelay, DelayTimer } from './delay.ts'
import { createForwarder } from './forwarder.ts'
import { compileTopicMapper } from './topic-mapper.ts'
import { compileTransform } from './transform.ts'

function emptyStats(host: string): BridgeStats {
  return {
    host,
    received: 0,
    forwarded: 0,
    passedThroughInvalid: 0,
    unmatched: 0,
    dropped: 0,
    transformErrors: 0,
    overflowDropped: 0,
    publishErrors: 0,
    inFlight: 0,
    inFlightPeak: 0,
    queued: 0,
    queuedPeak: 0,
  }
}

/**
 * iotload's reference bridge: consume, transform while keeping the metadata, optionally wait a
 * simulated processing time, stamp hop in/out times, republish. It stands in for an iPaaS so the
 * latency of that leg can be measured on its own.
 *
 * At most `concurrency` messages are between receipt and publish settlement; later arrivals wait
 * in a queue bounded by `maxQueued` (and the subscription is paused if it can pause); beyond the
 * bound they are dropped and counted, never buffered without limit.
 *
 * @example const bridge = await startBridge({ config, input, output, filter: 'devices/+/telemetry', logger })
 */
export async function startBridge(o: BridgeOptions): Promise<RunningBridge> {
  const config = o.config
  const mapTopic = compileTopicMapper(config.from, config.to)
  const timer = new DelayTimer()
  const stats = emptyStats(config.host ?? hostname())
  const forward = createForwarder({
    output: o.output,
    qos: o.qos ?? 0,
    by: o.name ?? 'bridge',
    host: stats.host,
    stats,
    transform: await compileTransform(config.transform),
    sampleDelay: compileDelay(config.delay),
    timer,
    onForward: o.onForward,
    release: () => admission.release(),
  })
  const admission = new Admission(stats, config, forward)

  const onMessage = (msg: InboundMessage) => {
    const hopIn = nowUs()
    stats.received++
    const target = mapTopic(msg.topic)
    if (target === undefined) {
      stats.unmatched++
      return
    }
    admission.offer(msg, hopIn, target)
  }

  admission.subscription = await o.input.subscribe(o.filter, onMessage, { qos: o.qos ?? 0 })
  return {
    stats,
    async stop() {
      await admission.subscription?.unsubscribe()
      const until = Date.now() + 5000
      while ((stats.inFlight > 0 || stats.queued > 0) && Date.now() < until)
        await new Promise((r) => setTimeout(r, 10))
      timer.clear()
    },
  }
}
