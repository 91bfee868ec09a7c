import { mqttPlugin } from './plugin.ts'

export { type MqttConfig, mqttConfigSchema } from './config.ts'
export { type EmbeddedBroker, type EmbeddedBrokerOptions, startEmbeddedBroker } from './embedded-broker.ts'
export { mqttPlugin }
export default mqttPlugin
