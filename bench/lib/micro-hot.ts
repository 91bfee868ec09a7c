/**
 * `node --import tsx bench/lib/micro-hot.ts`: CPU per call of the hot path's own pieces, no broker
 * (payload render, envelope encode, consumer decode, recorder): where a message's CPU goes inside iotload.
 */
import { decodeEnvelope, encodeJsonEnvelope, runTag } from '@iotload/sdk'
import { RunRecorder } from '../../daemon/src/engine/recorder.ts'
import { compilePayloadTemplate } from '../../daemon/src/scenario/payload-template.ts'

const N = 400_000
const render = compilePayloadTemplate({ v: '{float:0:100:2}', pad: 'x'.repeat(48) }, 'p', 1)
const run = 'abcdef012345'
const rec = new RunRecorder(run, runTag(run))
const payloads: Buffer[] = []
const base = Date.now() * 1000
function time(name: string, f: () => void) {
  const c0 = process.cpuUsage()
  f()
  const c = process.cpuUsage(c0)
  console.log(name, Math.round(((c.user + c.system) * 1000) / N), 'ns/op')
}
for (let r = 0; r < 3; r++) {
  payloads.length = 0
  time('render', () => {
    for (let i = 0; i < N; i++) render({ device: i % 10, seq: i, run, nowUs: base })
  })
  time('render+encode+buffer', () => {
    for (let i = 0; i < N; i++) {
      const body = render({ device: i % 10, seq: i, run, nowUs: base })
      const t = base + i
      payloads.push(
        Buffer.from(
          encodeJsonEnvelope(body, { run, dev: i % 10, seq: Math.floor(i / 10) + r * N, t, ti: t }),
        ),
      )
    }
  })
  time('decode', () => {
    for (let i = 0; i < N; i++) decodeEnvelope(payloads[i]!)
  })
  time('onPayload', () => {
    for (let i = 0; i < N; i++) rec.onPayload(payloads[i]!, base + i + 500)
  })
  rec.rollSecond(r, false)
}
