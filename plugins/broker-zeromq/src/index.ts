export {
  type ZeromqConfig,
  type ZeromqCurveOptions,
  type ZeromqEndpointOptions,
  zeromqConfigSchema,
} from './config.ts'
export { zeromqPlugin } from './plugin.ts'
export { compileFilter, type TopicFilter, ZEROMQ_WILDCARDS } from './topic-filter.ts'
export { zeromqPlugin as default } from './plugin.ts'
