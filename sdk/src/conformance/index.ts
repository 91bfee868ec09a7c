export type { ConformanceOptions } from './options.ts'
export { testBrokerPlugin } from './suite.ts'
// Kept here for existing imports; the kit's home is @iotload/sdk/testing.
export {
  type CollectingLogger,
  createCollectingLogger,
  type HandleCounts,
  handleCounts,
  handlesAbove,
  leakedSecrets,
  settleHandles,
  startTcpProxy,
  type TcpProxy,
} from '../testing.ts'
