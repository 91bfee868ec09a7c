import { mqttScenario } from '../test-fixtures.ts'

// Random and malformed requests for fuzz.test.ts: seeded, so a failing seed reproduces exactly.

/** mulberry32: small, fast, seedable; a failing seed reproduces exactly. */
export function prng(seed: number) {
  let a = seed >>> 0
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const int = (n: number) => Math.floor(next() * n)
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!
  return { next, int, pick }
}
/** A seeded random source. */
export type Rng = ReturnType<typeof prng>

/** The bearer token of the guarded app. */
export const TOKEN = 'fuzz-token-0123456789abcdef'
const IDS = [
  'seed01',
  'seed02',
  'nosuchrun',
  '',
  '%ZZ',
  '..',
  '%2e%2e',
  'a'.repeat(300),
  '💥',
  '%00',
  'x y',
  '__proto__',
  '-',
  '%',
]
const PATHS = [
  '/v1/runs',
  '/v1/runs/{id}',
  '/v1/runs/{id}/series',
  '/v1/runs/{id}/percentiles',
  '/v1/runs/{id}/stop',
  '/v1/plugins',
  '/healthz',
  '/metrics',
  '/openapi.json',
  '/v1/runs/{id}/{id}',
  '/v1',
  '/%',
  '//v1//runs',
]
const ROUTES: Array<[string, string]> = [
  ['POST', '/v1/runs'],
  ['POST', '/v1/runs'],
  ['POST', '/v1/runs'],
  ['GET', '/v1/runs'],
  ['GET', '/v1/runs/{id}'],
  ['GET', '/v1/runs/{id}/series'],
  ['GET', '/v1/runs/{id}/percentiles'],
  ['POST', '/v1/runs/{id}/stop'],
  ['DELETE', '/v1/runs/{id}'],
  ['GET', '/v1/plugins'],
  ['POST', '/v1/plugins'],
  ['GET', '/healthz'],
  ['GET', '/metrics'],
  ['GET', '/openapi.json'],
]
const METHODS = ['GET', 'POST', 'DELETE', 'PUT', 'PATCH', 'OPTIONS', 'HEAD']
const TYPES = [
  'application/json',
  'application/yaml',
  'text/yaml',
  'application/x-yaml',
  'application/json; charset=utf-16',
  'application/vnd.api+json',
  'text/plain',
  'multipart/form-data; boundary=x',
  'application/x-www-form-urlencoded',
  '',
  ';;;',
  'application/json\u00ff',
  'APPLICATION/JSON',
]
const QUERY_KEYS = [
  'limit',
  'offset',
  'stream',
  'from',
  'to',
  'kind',
  'histograms',
  'x',
  '__proto__',
  '%ZZ',
  '',
]
const WEIRD = [
  '',
  '-1',
  '0',
  '1e309',
  'NaN',
  'Infinity',
  '9'.repeat(40),
  '%ZZ',
  '%00',
  'true',
  'e2e',
  'co',
  'raw',
  '💥',
  '[]',
  '{}',
  '1.5',
  '0x10',
  ' 7',
]

function randomJson(r: Rng, depth = 0): unknown {
  const k = r.int(depth > 4 ? 6 : 9)
  switch (k) {
    case 0:
      return null
    case 1:
      return r.next() < 0.5
    case 2:
      return r.pick([0, -1, 1.5, 1e308, -1e308, 2 ** 53 + 1, Number.MAX_SAFE_INTEGER])
    case 3:
      return r.pick(WEIRD)
    case 4:
      return 'x'.repeat(r.int(2000))
    case 5:
      return r.pick([
        '${env:HOME}',
        '${env:NOPE_NOT_SET}',
        '${file:/nonexistent}',
        '{device}',
        '{float:a:b}',
        '{choice:}',
      ])
    case 6:
    case 7: {
      const o: Record<string, unknown> = {}
      for (let i = r.int(5); i > 0; i--)
        o[r.pick(['broker', 'producer', 'plugin', 'name', '__proto__', 'constructor', 'rate', 'x', ''])] =
          randomJson(r, depth + 1)
      return o
    }
    default:
      return Array.from({ length: r.int(4) }, () => randomJson(r, depth + 1))
  }
}

/** A valid scenario with one random part broken (or not): exercises validation past the first check. */
function mutatedScenario(r: Rng): unknown {
  const s = structuredClone(mqttScenario(`fuzz${r.int(1000)}`)) as Record<string, Record<string, unknown>>
  const sections = ['broker', 'producer', 'run'] as const
  for (let i = 1 + r.int(3); i > 0; i--) {
    const section = s[r.pick(sections)]!
    const keys = [
      ...Object.keys(section),
      'qos',
      'envelope',
      'warmup',
      'payload',
      'totalRate',
      'extra',
      'auth',
      'plugin',
    ]
    const key = r.pick(keys)
    if (r.next() < 0.2) delete section[key]
    else section[key] = randomJson(r)
  }
  if (r.next() < 0.1) s.bridge = randomJson(r) as Record<string, unknown>
  if (r.next() < 0.1)
    s.slo = { [r.pick(['e2e.p99', 'loss', 'bogus', 'e2e.co.p999'])]: r.pick(['10ms', 'x', -1, '0']) } as never
  return s
}

function randomBody(r: Rng): string | Uint8Array | undefined {
  switch (r.int(10)) {
    case 9:
      return JSON.stringify(mqttScenario(`fuzz${r.int(1000)}`))
    case 0:
      return undefined
    case 1:
      return Uint8Array.from({ length: r.int(300) }, () => r.int(256))
    case 2:
      return JSON.stringify(randomJson(r))
    case 3:
    case 4:
      return JSON.stringify(mutatedScenario(r))
    case 5:
      return r.pick([
        'a: &a [*a]',
        'x: !!js/function "function(){}"',
        'b: !!binary aGVsbG8=',
        'a: &x 1\nb: *x\nc: *x',
        `${'- '.repeat(500)}x`,
        '%YAML 9.9\n---\na: 1',
        '{{{',
        'broker: {plugin: mqtt}\nbroker: {plugin: mqtt}',
        '? [a, b]\n: c',
        '---\na: 1\n---\nb: 2',
      ])
    case 6:
      return `${'['.repeat(r.int(3000))}${']'.repeat(r.int(3000))}`
    case 7:
      return JSON.stringify({
        name: r.pick(['mqtt', 'kafka', '../x', '@iotload/broker-zz', '-g', '', 'a@file:/x', 'x'.repeat(300)]),
      })
    default:
      return JSON.stringify(mutatedScenario(r)).slice(0, r.int(200))
  }
}

/**
 * The n-th fuzz request: mostly a real route with random methods, content types, query values and
 * (malformed) bodies, sometimes a made-up path or a foreign Host; `authed` when it carries the token.
 */
export function randomRequest(r: Rng, n: number): { url: string; init: RequestInit; authed: boolean } {
  // Mostly real routes with their real methods, so most requests reach validation and handlers.
  const real = r.next() < 0.75 ? r.pick(ROUTES) : undefined
  let path = real ? real[1] : r.pick(PATHS)
  while (path.includes('{id}'))
    path = path.replace('{id}', r.next() < 0.6 ? r.pick(['seed01', 'seed02']) : r.pick(IDS))
  const params: string[] = []
  for (let i = r.int(4); i > 0; i--) params.push(`${r.pick(QUERY_KEYS)}=${r.pick(WEIRD)}`)
  // Every 23rd request names a foreign host (DNS rebinding); the rest the daemon's own. Not drawn
  // from the generator, so a seed keeps producing the requests it always did.
  const host = n % 23 === 7 ? (n % 2 === 0 ? 'evil.example' : '127.0.0.1.nip.io') : 'localhost'
  const url = `http://${host}${path}${params.length ? `?${params.join('&')}` : ''}`
  const method = real ? real[0] : r.pick(METHODS)
  const headers: Record<string, string> = {}
  const type = r.pick(TYPES)
  if (type) headers['content-type'] = type
  const authed = r.next() < 0.3
  if (authed || r.next() < 0.3)
    headers.authorization = r.pick([
      `Bearer ${TOKEN}`,
      'Bearer',
      'Bearer  ',
      `bearer ${TOKEN}x`,
      'Basic abc',
      `Bearer ${'z'.repeat(5000)}`,
      '\u00ff',
    ])
  // Header values must be Latin-1 for the client to send them at all.
  if (r.next() < 0.2)
    headers['x-forwarded-for'] = r.pick(WEIRD.filter((w) => [...w].every((ch) => ch.charCodeAt(0) < 256)))
  if (r.next() < 0.1) headers.accept = r.pick(['application/yaml', '*/*', 'text/html', ''])
  const body = method === 'GET' || method === 'HEAD' ? undefined : randomBody(r)
  const init: RequestInit = { method, headers }
  if (body !== undefined) init.body = body as NonNullable<RequestInit['body']>
  return { url, init, authed }
}
