export {
  type BridgeConfig,
  type BridgeOptions,
  type BridgeStats,
  bridgeConfigSchema,
  type DelayConfig,
  delaySchema,
  type ForwardInfo,
  type RunningBridge,
  type TransformConfig,
  transformSchema,
} from '@iotload/sdk'
export { startBridge } from './bridge.ts'
export { compileDelay, DelayTimer } from './delay.ts'
export { compileTopicMapper } from './topic-mapper.ts'
export {
  compileMapTransform,
  compileTransform,
  type JsonBody,
  loadModuleTransform,
  type TransformContext,
  type TransformFn,
} from './transform.ts'
