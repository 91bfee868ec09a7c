/** Test helpers of @iotload/otel: a real OTLP trace receiver decoding against the official .proto files. */
export { OTLP_PROTO_VERSION, otlpProtoDir } from './otlp-protos.ts'
export {
  type OtlpReceiver,
  type ReceivedRequest,
  type ReceivedSpan,
  startOtlpReceiver,
} from './otlp-receiver.ts'
