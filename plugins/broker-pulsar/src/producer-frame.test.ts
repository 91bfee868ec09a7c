import { describe, expect, it } from 'vitest'
import { ackFrame, nackFrame } from './consumer.ts'
import { encodeProducerFrame } from './producer.ts'

describe('WebSocket API frames', () => {
  it('encodes payload as base64 of exactly the view, plus key, properties and context', () => {
    const backing = new Uint8Array([9, 0, 1, 255, 9])
    const frame = JSON.parse(
      encodeProducerFrame(
        { payload: backing.subarray(1, 4), key: 'dev-"7"', headers: { traceparent: '00-ab' } },
        '12',
      ),
    )
    expect(frame).toEqual({
      payload: 'AAH/',
      key: 'dev-"7"',
      properties: { traceparent: '00-ab' },
      context: '12',
    })
  })

  it('omits what is absent', () => {
    expect(JSON.parse(encodeProducerFrame({ payload: new Uint8Array() }, undefined))).toEqual({ payload: '' })
  })

  it('acks and nacks by message id', () => {
    expect(JSON.parse(ackFrame('CAEQ=='))).toEqual({ messageId: 'CAEQ==' })
    expect(JSON.parse(nackFrame('CAEQ=='))).toEqual({ type: 'negativeAcknowledge', messageId: 'CAEQ==' })
  })
})
