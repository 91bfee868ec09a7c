import plugin from './plugin.ts'

export { type NatsConfig, natsConfigSchema } from './config.ts'
export { plugin as nats }
export default plugin
