export {
  type BridgeOptions,
  type BridgeStats,
  type ForwardInfo,
  type RunningBridge,
  startBridge,
} from './bridge.ts'
export {
  type BridgeConfig,
  bridgeConfigSchema,
  type DelayConfig,
  delaySchema,
  type TransformConfig,
  transformSchema,
} from './config.ts'
export { compileDelay, DelayTimer } from './delay.ts'
export { compileJsonPath, parseJsonPath } from './json-path.ts'
export { compileTopicMapper } from './topic-mapper.ts'
export {
  compileMapTransform,
  compileTransform,
  type JsonBody,
  loadModuleTransform,
  type TransformContext,
  type TransformFn,
} from './transform.ts'
