export { monoUs, nowUs } from './clock.ts'
export { type AuthConfig, authSchema } from './config/auth.ts'
export { hostOf, hostsOf } from './config/broker-host.ts'
export { isSecretField, secretField } from './config/secret.ts'
export {
  durationMsSchema,
  parseDurationMs,
  parseRatePerSecond,
  rateSchema,
} from './config/units.ts'
export {
  loadTlsMaterial,
  type TlsConfig,
  type TlsMaterial,
  tlsSchema,
  tlsSchemeProblem,
} from './config/tls.ts'
export {
  appendBinaryHop,
  BINARY_HEADER_BYTES,
  BINARY_HOP_BYTES,
  BINARY_MAGIC,
  BINARY_VERSION,
  type BinaryDecodeResult,
  type BinaryMeta,
  decodeBinaryEnvelope,
  encodeBinaryEnvelope,
  isBinaryEnvelope,
} from './envelope/binary-envelope.ts'
export { type DecodedMeta, type DecodeResult, decodeEnvelope } from './envelope/decode.ts'
export {
  decodeJsonEnvelope,
  encodeJsonEnvelope,
  encodeJsonEnvelopeAfter,
  JSON_META_KEY,
  jsonEnvelopePrefix,
  type JsonDecodeResult,
  metaFromObject,
  setJsonMeta,
} from './envelope/json-envelope.ts'
export {
  type EnvelopeMeta,
  type HopStamp,
  type InvalidReason,
  isPlausibleUs,
  runTag,
} from './envelope/metadata.ts'
export {
  ClosedError,
  ConfigError,
  type ConnectionFailureKind,
  ConnectionError,
  describeError,
  type IotloadErrorCode,
  IotloadError,
  type IotloadErrorOptions,
  PluginLoadError,
  PublishError,
} from './errors.ts'
export { importLib } from './import-lib.ts'
export { compileJsonPath, parseJsonPath } from './json-path.ts'
export {
  type InboundMessage,
  isPausable,
  type OutboundMessage,
  type PausableSubscription,
  type QoS,
  type SubscribeOptions,
  type Subscription,
  TRACEPARENT_HEADER,
} from './messages.ts'
export {
  type BrokerConnection,
  type BrokerPlugin,
  type ConnectionCredentials,
  type ConnectionWill,
  type ConnectionRole,
  type ConnectionStatus,
  definePlugin,
  isBrokerPlugin,
  type PluginCapabilities,
  type PluginContext,
  type PluginLogger,
  type PublishCallback,
  type WildcardSyntax,
} from './plugin.ts'
export type {
  ForwardInfo,
  HopInfo,
  ReceivedMeta,
  ReceiveInfo,
  RunEndInfo,
  RunTelemetry,
  SecondCounters,
  SecondInfo,
  SendInfo,
  SettleInfo,
  ShardedTelemetry,
  WorkerSlot,
  WorkerTelemetry,
} from './run-hooks.ts'
export {
  type BridgeConfig,
  bridgeConfigSchema,
  type DelayConfig,
  delaySchema,
  type TransformConfig,
  transformSchema,
} from './bridge/bridge-config.ts'
export type {
  BridgeOptions,
  BridgeRoleModule,
  BridgeStats,
  RunningBridge,
} from './bridge/bridge-role.ts'
