import { createServer, type IncomingMessage, type Server } from 'node:http'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import * as grpc from '@grpc/grpc-js'
import protobuf from 'protobufjs'

const TRACE_SERVICE_PROTO = 'opentelemetry/proto/collector/trace/v1/trace_service.proto'
const PKG = 'opentelemetry.proto.collector.trace.v1'

/** A span as the receiver decoded it, ids in hex, times in ns as decimal strings. */
export interface ReceivedSpan {
  transport: 'grpc' | 'http/protobuf' | 'http/json'
  /** `service.name` of the span's resource. */
  service: string
  resource: Record<string, unknown>
  scope: string
  traceId: string
  spanId: string
  parentSpanId: string
  name: string
  /** OTLP SpanKind number (1 internal, 2 server, 3 client, 4 producer, 5 consumer). */
  kind: number
  startTimeUnixNano: string
  endTimeUnixNano: string
  attributes: Record<string, unknown>
  /** OTLP StatusCode number (0 unset, 1 ok, 2 error). */
  status: number
}

/** One export request as it arrived. */
export interface ReceivedRequest {
  transport: ReceivedSpan['transport']
  path: string
  /** HTTP headers or gRPC metadata, lower-case names. */
  headers: Record<string, string>
}

/** A running OTLP trace receiver (gRPC and HTTP on loopback ports). */
export interface OtlpReceiver {
  /** `http://127.0.0.1:<port>` for OTEL_EXPORTER_OTLP_ENDPOINT with protocol grpc. */
  readonly grpcEndpoint: string
  /** `http://127.0.0.1:<port>` (base) for http/protobuf and http/json. */
  readonly httpEndpoint: string
  readonly spans: ReceivedSpan[]
  readonly requests: ReceivedRequest[]
  close(): Promise<void>
}

type AnyValue = {
  stringValue?: string
  boolValue?: boolean
  intValue?: string | number
  doubleValue?: number
  arrayValue?: { values?: AnyValue[] }
}
type KeyValue = { key: string; value?: AnyValue }
type OtlpSpan = {
  traceId?: string
  spanId?: string
  parentSpanId?: string
  name?: string
  kind?: number
  startTimeUnixNano?: string | number
  endTimeUnixNano?: string | number
  attributes?: KeyValue[]
  status?: { code?: number }
}
type ExportRequest = {
  resourceSpans?: Array<{
    resource?: { attributes?: KeyValue[] }
    scopeSpans?: Array<{ scope?: { name?: string }; spans?: OtlpSpan[] }>
  }>
}

function value(v: AnyValue | undefined): unknown {
  if (!v) return undefined
  if (v.stringValue !== undefined) return v.stringValue
  if (v.boolValue !== undefined) return v.boolValue
  if (v.intValue !== undefined) return Number(v.intValue)
  if (v.doubleValue !== undefined) return v.doubleValue
  if (v.arrayValue) return (v.arrayValue.values ?? []).map(value)
  return undefined
}

function attrs(list: KeyValue[] | undefined): Record<string, unknown> {
  return Object.fromEntries((list ?? []).map((kv) => [kv.key, value(kv.value)]))
}

/** Flattens an export request (ids already hex strings) into spans. */
function flatten(req: ExportRequest, transport: ReceivedSpan['transport']): ReceivedSpan[] {
  return (req.resourceSpans ?? []).flatMap((rs) => {
    const resource = attrs(rs.resource?.attributes)
    return (rs.scopeSpans ?? []).flatMap((ss) =>
      (ss.spans ?? []).map((s) => ({
        transport,
        service: String(resource['service.name']),
        resource,
        scope: ss.scope?.name ?? '',
        traceId: s.traceId ?? '',
        spanId: s.spanId ?? '',
        parentSpanId: s.parentSpanId ?? '',
        name: s.name ?? '',
        kind: s.kind ?? 0,
        startTimeUnixNano: String(s.startTimeUnixNano ?? '0'),
        endTimeUnixNano: String(s.endTimeUnixNano ?? '0'),
        attributes: attrs(s.attributes),
        status: s.status?.code ?? 0,
      })),
    )
  })
}

function body(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
  })
}

/**
 * Starts a test OTLP trace receiver on 127.0.0.1: a gRPC `TraceService/Export` server and an
 * HTTP `/v1/traces` endpoint (protobuf and JSON). Protobuf payloads are decoded with protobufjs
 * against the official `.proto` files in `protoDir` (see `otlpProtoDir`), not with the
 * exporters' own serializer, so an encoding fault shows up as a decoding failure here.
 */
export async function startOtlpReceiver(protoDir: string): Promise<OtlpReceiver> {
  const root = new protobuf.Root()
  root.resolvePath = (_origin, target) => join(protoDir, target)
  root.loadSync(TRACE_SERVICE_PROTO)
  const Request = root.lookupType(`${PKG}.ExportTraceServiceRequest`)
  const Response = root.lookupType(`${PKG}.ExportTraceServiceResponse`)
  const service = root.lookupService(`${PKG}.TraceService`)
  const exportMethod = service.methods.Export
  if (!exportMethod) throw new Error('TraceService.Export is not in the .proto')
  const spans: ReceivedSpan[] = []
  const requests: ReceivedRequest[] = []
  const decode = (buf: Buffer): ExportRequest =>
    Request.toObject(Request.decode(buf), { longs: String, bytes: String, defaults: false }) as ExportRequest
  // protobufjs renders bytes as base64; OTLP ids are shown in hex everywhere else.
  const hexIds = (req: ExportRequest): ExportRequest => {
    for (const rs of req.resourceSpans ?? [])
      for (const ss of rs.scopeSpans ?? [])
        for (const s of ss.spans ?? [])
          for (const k of ['traceId', 'spanId', 'parentSpanId'] as const)
            if (s[k]) s[k] = Buffer.from(s[k], 'base64').toString('hex')
    return req
  }

  const grpcServer = new grpc.Server()
  const path = `/${service.fullName.replace(/^\./, '')}/${exportMethod.name}`
  grpcServer.addService(
    {
      Export: {
        path,
        requestStream: false,
        responseStream: false,
        requestSerialize: (m: Buffer) => m,
        requestDeserialize: (b: Buffer) => b,
        responseSerialize: (m: Buffer) => m,
        responseDeserialize: (b: Buffer) => b,
      },
    },
    {
      Export: (call: grpc.ServerUnaryCall<Buffer, Buffer>, done: grpc.sendUnaryData<Buffer>) => {
        try {
          const meta = call.metadata.getMap()
          requests.push({
            transport: 'grpc',
            path,
            headers: Object.fromEntries(Object.entries(meta).map(([k, v]) => [k, String(v)])),
          })
          spans.push(...flatten(hexIds(decode(call.request)), 'grpc'))
          done(null, Buffer.from(Response.encode(Response.create({})).finish()))
        } catch (err) {
          done({ code: grpc.status.INVALID_ARGUMENT, details: (err as Error).message })
        }
      },
    },
  )
  const grpcPort = await new Promise<number>((resolve, reject) =>
    grpcServer.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) =>
      err ? reject(err) : resolve(port),
    ),
  )

  const http: Server = createServer(async (req, res) => {
    try {
      let buf = await body(req)
      if (req.headers['content-encoding'] === 'gzip') buf = gunzipSync(buf)
      const json = String(req.headers['content-type'] ?? '').includes('json')
      const transport = json ? 'http/json' : 'http/protobuf'
      requests.push({
        transport,
        path: req.url ?? '',
        headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)])),
      })
      if (req.method !== 'POST' || req.url !== '/v1/traces') {
        res.writeHead(404).end()
        return
      }
      // OTLP/JSON carries ids as hex already.
      spans.push(
        ...flatten(
          json ? (JSON.parse(buf.toString('utf8')) as ExportRequest) : hexIds(decode(buf)),
          transport,
        ),
      )
      if (json) res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
      else
        res
          .writeHead(200, { 'content-type': 'application/x-protobuf' })
          .end(Buffer.from(Response.encode(Response.create({})).finish()))
    } catch (err) {
      res.writeHead(400, { 'content-type': 'text/plain' }).end((err as Error).message)
    }
  })
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  const httpPort = (http.address() as { port: number }).port

  return {
    grpcEndpoint: `http://127.0.0.1:${grpcPort}`,
    httpEndpoint: `http://127.0.0.1:${httpPort}`,
    spans,
    requests,
    async close() {
      grpcServer.forceShutdown()
      http.closeAllConnections()
      await new Promise((r) => http.close(r))
    },
  }
}
