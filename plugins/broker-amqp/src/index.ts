import { amqpPlugin } from './plugin.ts'

export type { PausableSubscription } from './amqp-connection.ts'

export { type AmqpConfig, amqpConfigSchema } from './config.ts'
export { DEFAULT_CREDENTIALS } from './connect-options.ts'
export { filterToBindingKey, routingKeyToTopic, topicToRoutingKey } from './routing-key.ts'
export { amqpPlugin }
export default amqpPlugin
