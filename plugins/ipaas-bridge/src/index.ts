export {
  type BridgeOptions,
  type ForwardInfo,
  type BridgeStats,
  type RunningBridge,
  startBridge,
} from './bridge.ts'
export { type BridgeConfig, bridgeConfigSchema } from './config.ts'
export { compileTopicMapper } from './topic-mapper.ts'
