/**
 * Run by zeromq.int.test.ts in a child process: opens a consumer and a producer, round-trips a
 * message, closes both (twice) and then must exit on its own. A leaked socket, observer or timer
 * would keep the event loop (or libzmq's context termination) alive and the parent times it out.
 */
import { Inbox, waitFor } from '@iotload/sdk/testing'
import { connectRole } from './helpers.ts'

const endpoint = `tcp://127.0.0.1:${process.argv[2]}`
const mode = process.argv[3] ?? 'pubsub'
const consumer = await connectRole({ mode, endpoint }, 'consumer')
const box = new Inbox()
await consumer.subscribe('leak/#', box.push)
const producer = await connectRole({ mode, endpoint }, 'producer')
await producer.publish('leak/1', { payload: new Uint8Array([1, 2, 3]) })
await waitFor(() => box.messages.length === 1, 5000, 'the message')
await Promise.all([producer.close(), consumer.close()])
await consumer.close()
process.stdout.write(`${JSON.stringify(process.getActiveResourcesInfo())}\n`)
