import type { Context } from 'hono'
import { type SSEStreamingApi, streamSSE } from 'hono/streaming'
import { secrets } from '../../scenario/secrets.ts'
import { BoundedQueue, type RunEvent } from '../../service/run-events.ts'
import { ServiceError } from '../../service/errors.ts'
import type { RunManager } from '../../service/run-manager.ts'
import { parseWith } from '../errors.ts'
import type { Register } from '../openapi.ts'
import { eventsQuery } from '../report-schemas.ts'
import { errorResponse, runIdParams } from '../schemas.ts'

/** Events a slow client may fall behind by before the oldest are dropped (and counted). */
const QUEUE_CAPACITY = 120
/**
 * Event streams open at once, across runs. Each holds a socket and costs a write per second on the
 * event loop the runs measure with: thousands starved a run's generator (p50 ~1 s) and its sockets.
 */
export const MAX_EVENT_STREAMS = 64
/** While the run connects (no seconds yet), a `live` event this often. */
const CONNECT_TICK_MS = 1000

type Outgoing = RunEvent | { type: 'live'; data: unknown }

const err = (description: string) => ({ description, schema: errorResponse })

/** GET /v1/runs/{id}/events: the per-second lines as Server-Sent Events, closed when the run ends. */
export function eventRoutes(register: Register, manager: RunManager): void {
  let open = 0
  register(
    {
      method: 'get',
      path: '/v1/runs/{id}/events',
      summary: 'The per-second lines of a run as Server-Sent Events, until it ends',
      description:
        'text/event-stream. `live`: the live view now (also every second while connecting: opened/target, failures, rate, remaining); `second`: each completed second (sent, received, p50Us, p99Us, gaps, invalid, publish errors, disconnects, reconnects; `dropped` counts events a slow reader missed: at most 120 wait per client); `end`: {status}, then the stream closes. A run that is not executing gets `end` at once.',
      params: runIdParams,
      query: eventsQuery,
      responses: {
        200: { description: 'the event stream', contentType: 'text/event-stream' },
        400: err('invalid id or an unknown parameter'),
        404: err('no run with this id'),
        429: err(`${MAX_EVENT_STREAMS} event streams are open already`),
      },
    },
    (c) => {
      const { id } = parseWith(runIdParams, c.req.param(), 'params')
      parseWith(eventsQuery, c.req.query(), 'query')
      const view = manager.get(id)
      if (open >= MAX_EVENT_STREAMS)
        throw new ServiceError(
          'busy',
          'TOO_MANY_STREAMS',
          `${MAX_EVENT_STREAMS} event streams are open already; close one or poll GET /v1/runs/${id}`,
        )
      open++
      return streamRunEvents(c, manager, id, view.status, () => open--)
    },
  )
}

function streamRunEvents(c: Context, manager: RunManager, id: string, status: string, closed: () => void) {
  return streamSSE(c, async (stream) => {
    try {
      await sendRunEvents(stream, manager, id, status)
    } finally {
      closed()
    }
  })
}

async function sendRunEvents(stream: SSEStreamingApi, manager: RunManager, id: string, status: string) {
  const queue = new BoundedQueue<Outgoing>(QUEUE_CAPACITY)
  if (!manager.isActive(id)) queue.push({ type: 'end', data: { status } })
  else {
    queue.push({ type: 'live', data: manager.get(id).live })
    const off = manager.events.on(id, (e) => {
      queue.push(e)
      if (e.type === 'end') queue.close()
    })
    const tick = setInterval(() => {
      const live = manager.isActive(id) ? manager.get(id).live : null
      if (live && (live.status === 'pending' || live.status === 'connecting'))
        queue.push({ type: 'live', data: live })
    }, CONNECT_TICK_MS)
    const stop = () => {
      off()
      clearInterval(tick)
      queue.close()
    }
    stream.onAbort(stop)
    // The run may have ended between the check and the subscription.
    if (!manager.isActive(id)) {
      queue.push({ type: 'end', data: { status: manager.get(id).status } })
      queue.close()
    }
    try {
      await pump(stream, queue)
    } finally {
      stop()
    }
    return
  }
  queue.close()
  await pump(stream, queue)
}

async function pump(
  stream: { writeSSE(m: { event: string; data: string; id?: string }): Promise<void>; aborted: boolean },
  queue: BoundedQueue<Outgoing>,
): Promise<void> {
  let n = 0
  for (let e = await queue.next(); e !== undefined && !stream.aborted; e = await queue.next()) {
    const data = queue.dropped > 0 && e.type === 'second' ? { ...e.data, dropped: queue.dropped } : e.data
    // Per event: the app's scrubber cannot hold a stream back to read it whole.
    await stream.writeSSE({ event: e.type, data: secrets.scrub(JSON.stringify(data)), id: String(n++) })
  }
}
