import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { requireBinary } from '@iotload/sdk/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { resolveScenario } from '../scenario/load-scenario.ts'
import { type DelayRelay, startDelayRelay } from './testing/delay-relay.ts'
import { expectExactBooks, logFigures, requirePresent, runTraced } from './testing/fault-asserts.ts'
import { createNetnsLink, type NetnsLink, netemWorks, netnsAvailable } from './testing/netns.ts'
import { type ShellBroker, startShellBroker } from './testing/shell-broker.ts'

// Network faults against a private Mosquitto. A partition needs a network namespace of the test's
// own (root, iproute2): the broker lives behind a veth pair the fault command takes down for 3 s.
// A delay needs netem, which this machine's kernel lacks (no sch_netem): a userspace relay that
// holds the publishing direction for 50 ms stands in, and the netem variant skips when
// `tc qdisc add … netem` fails.
const mosquittoInstalled = requireBinary('mosquitto', 'Debian package mosquitto')
const canNetns =
  mosquittoInstalled &&
  requirePresent(netnsAvailable(), 'the partition test needs root and iproute2 (ip netns, veth)')

let link: NetnsLink | undefined
let nsBroker: ShellBroker | undefined
let localBroker: ShellBroker | undefined
let relay: DelayRelay | undefined
let netem = false

const mosquittoConf = (host: string) => (dir: string, port: number) =>
  writeFileSync(
    join(dir, 'mosquitto.conf'),
    [`listener ${port} ${host}`, 'allow_anonymous true', 'persistence false', 'log_dest stderr', ''].join(
      '\n',
    ),
  )

beforeAll(async () => {
  if (!canNetns) return
  link = createNetnsLink()
  const l = link
  netem = netemWorks(l)
  if (!netem) console.warn('[faults] tc netem is not available here (no sch_netem module): its variant skips')
  nsBroker = await startShellBroker({
    name: 'mosquitto-netns',
    host: l.nsIp,
    start: `exec ${l.inNs('mosquitto -c "$DIR/mosquitto.conf"')}`,
    prepare: mosquittoConf(l.nsIp),
  })
}, 60_000)

// Everything this file made goes, whatever failed.
afterAll(async () => {
  await relay?.close()
  localBroker?.dispose()
  nsBroker?.dispose()
  link?.dispose()
})

const run = { drain: '8s', generator: { maxEventLoopDelay: '10s', maxLag: '10s' } }

async function runWith(extra: Record<string, unknown>, url: string) {
  const resolved = await resolveScenario(
    {
      name: 'network fault',
      broker: { plugin: 'mqtt', url, version: '5', reconnectPeriod: '200ms', keepalive: 30 },
      run,
      ...extra,
    },
    { env: {} },
  )
  return runTraced(resolved)
}

describe.skipIf(!canNetns)('a 3 s network partition (veth down inside a namespace)', () => {
  it('is counted exactly as loss or late delivery, and recovery is measured', async () => {
    const l = link!
    const partition = `${l.inNs(`ip link set ${l.nsIf} down`)} && sleep 3 && ${l.inNs(`ip link set ${l.nsIf} up`)}`
    const { summary, trace } = await runWith(
      {
        producer: {
          devices: 10,
          rate: '20/s',
          duration: '12s',
          warmup: '1s',
          topic: 'fault/net/{device}',
          qos: 1,
        },
        faults: [{ name: 'partition 3 s', at: '4s', exec: partition, timeout: '20s' }],
      },
      `mqtt://${l.nsIp}:${nsBroker!.port}`,
    )
    expect(summary.run.status, summary.error).toBe('completed')
    const e2e = expectExactBooks(summary, 10 * 20 * 12)
    const [f] = summary.faults!.faults
    const why = `${JSON.stringify(f)}\n${trace}`
    expect(f!.exec, why).toMatchObject({ exitCode: 0, timedOut: false })
    // The connections survive a 3 s silence (keep-alive 30 s): what was sent meanwhile arrives
    // late, or is lost, and every message is one of received / lost / undelivered.
    expect(f!.recoveryMs, why).not.toBeNull()
    expect(f!.recoveryMs!, why).toBeGreaterThanOrEqual(2000)
    expect(f!.lost, why).toBe(e2e.lost! + (e2e.undelivered ?? 0))
    const late = f!.p99DuringUs !== null && f!.p99DuringUs >= 2_000_000
    expect(late || f!.lost! > 0, why).toBe(true)
    logFigures('mosquitto 3 s partition (netns, veth down)', summary, f!)
  })

  it.skipIf(!netem)('tc netem delay 50ms shows as +50 ms (±10 %)', async () => {
    // Only reachable on a kernel with sch_netem; the relay test below covers the delay here.
    const l = link!
    const base = await runWith(
      { producer: { devices: 5, rate: '20/s', duration: '4s', topic: 'fault/netem/{device}', qos: 1 } },
      `mqtt://${l.nsIp}:${nsBroker!.port}`,
    )
    const add = `tc qdisc add dev ${l.nsIf} root netem delay 50ms`
    const { execSync } = await import('node:child_process')
    execSync(l.inNs(add))
    try {
      const slow = await runWith(
        { producer: { devices: 5, rate: '20/s', duration: '4s', topic: 'fault/netem/{device}', qos: 1 } },
        `mqtt://${l.nsIp}:${nsBroker!.port}`,
      )
      // netem on the broker's side delays what it sends: the delivery to the consumer.
      const added = slow.summary.streams.e2e!.latency.raw.p50 - base.summary.streams.e2e!.latency.raw.p50
      expect(added).toBeGreaterThanOrEqual(45_000)
      expect(added).toBeLessThanOrEqual(55_000)
    } finally {
      execSync(l.inNs(`tc qdisc del dev ${l.nsIf} root`))
    }
  })
})

describe.skipIf(!mosquittoInstalled)(
  'a 50 ms delay on the publishing leg (userspace relay; netem is unavailable here)',
  () => {
    it('shows as +50 ms (±10 %) on e2e p50 against the same path without the delay', async () => {
      localBroker = await startShellBroker({
        name: 'mosquitto-delay',
        start: 'exec mosquitto -c "$DIR/mosquitto.conf"',
        prepare: mosquittoConf('127.0.0.1'),
      })
      const target = { host: '127.0.0.1', port: localBroker.port }
      const producer = { devices: 5, rate: '20/s', duration: '4s', topic: 'fault/delay/{device}', qos: 1 }
      relay = await startDelayRelay(target, 0)
      // The consumer subscribes at QoS 0: no PUBACKs of its own held in the relay.
      const consumer = { qos: 0 }
      const base = await runWith({ producer, consumer }, `mqtt://127.0.0.1:${relay.port}`)
      await relay.close()
      relay = await startDelayRelay(target, 50)
      const slow = await runWith({ producer, consumer }, `mqtt://127.0.0.1:${relay.port}`)
      for (const r of [base, slow]) expectExactBooks(r.summary, 5 * 20 * 4)
      // Client → broker only: the publish is held 50 ms, the delivery to the consumer is not.
      const added = slow.summary.streams.e2e!.latency.raw.p50 - base.summary.streams.e2e!.latency.raw.p50
      console.info(
        `[faults] relay +50 ms: e2e p50 ${base.summary.streams.e2e!.latency.raw.p50} → ${slow.summary.streams.e2e!.latency.raw.p50} µs (+${added} µs)`,
      )
      expect(added).toBeGreaterThanOrEqual(45_000)
      expect(added).toBeLessThanOrEqual(55_000)
    })
  },
)
