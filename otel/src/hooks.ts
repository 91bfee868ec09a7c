/**
 * The engine's hook types, under the names @iotload/otel has always exported. The contract itself
 * (`RunTelemetry` and its argument types) lives in @iotload/sdk, where the engine imports it too.
 */
export type {
  ForwardInfo as BridgeForwardInfo,
  ReceivedMeta as MessageMeta,
  ReceiveInfo,
  RunEndInfo,
  RunTelemetry as RunTelemetryHooks,
  SecondInfo,
  SendInfo,
  SettleInfo,
} from '@iotload/sdk'
export type { HopInfo, SecondCounters } from '@iotload/sdk'
