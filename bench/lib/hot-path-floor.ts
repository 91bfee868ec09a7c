import { decodeEnvelope, encodeJsonEnvelope, runTag } from '@iotload/sdk'
import { RunRecorder } from '../../daemon/src/engine/recorder.ts'
import { compilePayloadTemplate } from '../../daemon/src/scenario/payload-template.ts'

/** CPU ns per call of each piece of iotload's own per-message work, in a tight loop. */
export interface HotPathCosts {
  render: number
  /** Render, JSON envelope, UTF-8 buffer: what a send makes before the client library sees it. */
  renderEncodeBuffer: number
  decode: number
  /** Decode and record an arrival (sequence, latency histograms): what a receive costs. */
  onPayload: number
}

/**
 * iotload's own work per message with no broker, no I/O and no timers: the cheapest a send and a
 * receive can be, each piece the best of `rounds` loops of `n` calls. A floor under any run's CPU
 * per message, used to say what a machine's cores can hold at most.
 */
export function hotPathCosts(n = 200_000, rounds = 3): HotPathCosts {
  const render = compilePayloadTemplate({ v: '{float:0:100:2}', pad: 'x'.repeat(48) }, 'p', 1)
  const run = 'abcdef012345'
  const rec = new RunRecorder(run, runTag(run))
  const base = Date.now() * 1000
  const best: HotPathCosts = {
    render: Infinity,
    renderEncodeBuffer: Infinity,
    decode: Infinity,
    onPayload: Infinity,
  }
  const time = (piece: keyof HotPathCosts, f: () => void) => {
    const c0 = process.cpuUsage()
    f()
    const c = process.cpuUsage(c0)
    best[piece] = Math.min(best[piece], Math.round(((c.user + c.system) * 1000) / n))
  }
  for (let r = 0; r < rounds; r++) {
    const payloads: Buffer[] = []
    time('render', () => {
      for (let i = 0; i < n; i++) render({ device: i % 10, seq: i, run, nowUs: base })
    })
    time('renderEncodeBuffer', () => {
      for (let i = 0; i < n; i++) {
        const body = render({ device: i % 10, seq: i, run, nowUs: base })
        const t = base + i
        const meta = { run, dev: i % 10, seq: Math.floor(i / 10) + r * n, t, ti: t }
        payloads.push(Buffer.from(encodeJsonEnvelope(body, meta)))
      }
    })
    time('decode', () => {
      for (let i = 0; i < n; i++) decodeEnvelope(payloads[i]!)
    })
    time('onPayload', () => {
      for (let i = 0; i < n; i++) rec.onPayload(payloads[i]!, base + i + 500)
    })
    rec.rollSecond(r, false)
  }
  return best
}
