import { ConfigError, loadTlsMaterial, type PluginContext, type PluginLogger } from '@iotload/sdk'
import type { KafkaConfig as KafkaJsConfig, logCreator, SASLOptions } from 'kafkajs'
import { bootstrapServers, type KafkaConfig, usesTls } from './config.ts'

// kafkajs numeric levels (logLevel enum), inlined so this module needs no runtime import of kafkajs.
const KAFKAJS_ERROR = 1
const KAFKAJS_WARN = 2

/**
 * Routes kafkajs' own logger into the plugin logger at warn level: kafkajs logs every retry and
 * rebalance at info, which would drown a run with thousands of connections.
 */
export function kafkaLogCreator(logger: PluginLogger, clientId: string): logCreator {
  return () =>
    ({ level, log }) => {
      if (level > KAFKAJS_WARN) return
      const { message, timestamp: _t, logger: _l, stack: _s, ...fields } = log
      // kafkajs reports transient coordinator and leader moves as errors; they are warnings here.
      logger.warn(`kafkajs: ${message}`, {
        clientId,
        kafkajsLevel: level === KAFKAJS_ERROR ? 'error' : 'warn',
        ...fields,
      })
    }
}

function saslOptions(config: KafkaConfig, ctx: PluginContext): SASLOptions | undefined {
  const creds = ctx.credentials
  const mechanism = config.sasl?.mechanism ?? 'plain'
  if (mechanism === 'oauthbearer') {
    const token = creds?.token
    if (token === undefined) {
      if (config.sasl)
        throw new ConfigError('broker.auth.token', 'sasl.mechanism oauthbearer needs auth.token')
      return undefined
    }
    return { mechanism, oauthBearerProvider: async () => ({ value: token }) }
  }
  if (creds?.username === undefined) {
    if (config.sasl)
      throw new ConfigError('broker.auth.username', `sasl.mechanism ${mechanism} needs auth.username`)
    return undefined
  }
  return { mechanism, username: creds.username, password: creds.password ?? '' }
}

/** The kafkajs client options for one connection. */
export async function kafkaClientOptions(config: KafkaConfig, ctx: PluginContext): Promise<KafkaJsConfig> {
  const options: KafkaJsConfig = {
    clientId: `${config.clientIdPrefix}-${ctx.clientId}`,
    brokers: bootstrapServers(config),
    connectionTimeout: config.connectTimeout,
    requestTimeout: config.requestTimeout,
    retry: { retries: config.retries, initialRetryTime: 100, maxRetryTime: 2000 },
    logLevel: KAFKAJS_WARN,
    logCreator: kafkaLogCreator(ctx.logger, ctx.clientId),
  }
  const sasl = saslOptions(config, ctx)
  if (sasl) options.sasl = sasl
  if (usesTls(config)) options.ssl = config.tls ? await loadTlsMaterial(config.tls) : true
  return options
}
