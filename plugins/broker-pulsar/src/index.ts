import { pulsarPlugin } from './plugin.ts'

export { type PulsarConfig, pulsarConfigSchema, type SubscriptionType, subscriptionTypes } from './config.ts'
export {
  consumerUrl,
  displayUrl,
  type PulsarTopic,
  producerUrl,
  readerUrl,
  toPulsarTopic,
} from './topic-url.ts'
export type { PausableSubscription } from './pulsar-connection.ts'
export { pulsarPlugin }
export default pulsarPlugin
