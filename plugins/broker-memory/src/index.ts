import { memoryPlugin } from './plugin.ts'

export { type MemoryConfig, memoryConfigSchema } from './config.ts'
export { type BusStats, MemoryBus, memoryBus } from './memory-bus.ts'
export type { PausableSubscription } from './memory-subscription.ts'
export { memoryPlugin }
export default memoryPlugin
