import { type BrokerConnection, definePlugin, hostsOf, importLib } from '@iotload/sdk'
import { cachingPartitioner } from './caching-partitioner.ts'
import { kafkaClientOptions } from './client-options.ts'
import { dialledServers, kafkaConfigSchema } from './config.ts'
import { KafkaConnection } from './kafka-connection.ts'
import { useLinearGrouping } from './linear-grouping.ts'
import { watchedSocketFactory } from './socket-factory.ts'
import { KAFKA_WILDCARDS } from './topic-filter.ts'

/**
 * Apache Kafka through kafkajs: the device id as record key (per-device order on one partition),
 * Kafka headers, acks 0/1/all, idempotence, a linger batch window, gzip, per-consumer or shared
 * consumer groups, SASL PLAIN/SCRAM/OAUTHBEARER and TLS. Topics use `.` as separator (`/` is
 * illegal in Kafka topic names); filters take `*` for one level and `>` for the rest.
 *
 * @example
 * broker: { plugin: kafka, url: kafka://127.0.0.1:9092, partitions: 10, group: shared }
 */
export const kafkaPlugin = definePlugin({
  name: 'kafka',
  configSchema: kafkaConfigSchema,
  capabilities: { headers: true, publishAck: true, wildcards: true, fanout: 'group' },
  wildcardSyntax: { single: KAFKA_WILDCARDS.single, multi: KAFKA_WILDCARDS.multi },
  async connect(config, ctx): Promise<BrokerConnection> {
    useLinearGrouping()
    const kafkajs = await importLib(() => import('kafkajs'), 'kafkajs', '@iotload/broker-kafka')
    const options = await kafkaClientOptions(config, ctx)
    // One kafkajs client per producer/admin pair and per subscription, each watching its own
    // sockets, so closing one subscription is not mistaken for an outage of the others.
    const makeKafka = (closing: () => boolean) =>
      new kafkajs.Kafka({
        ...options,
        socketFactory: watchedSocketFactory({
          addressMap: config.addressMap ?? {},
          closing,
          onStatus: ctx.onStatus,
        }),
      })
    // Passing the partitioner explicitly also silences kafkajs' v2 partitioner warning.
    const partitioner = cachingPartitioner(kafkajs.Partitioners.DefaultPartitioner)
    const connection = new KafkaConnection(makeKafka, config, ctx, partitioner)
    await connection.open()
    ctx.onStatus?.('connected')
    return connection
  },
  brokerHosts: (config) => hostsOf(dialledServers(config)),
})

export default kafkaPlugin
