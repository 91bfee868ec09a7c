export type { ConformanceOptions } from './options.ts'
export { testBrokerPlugin } from './suite.ts'
