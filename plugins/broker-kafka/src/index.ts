import { kafkaPlugin } from './plugin.ts'

export { bootstrapServers, type KafkaConfig, kafkaConfigSchema } from './config.ts'
export { KAFKA_WILDCARDS, parseTopicFilter, type TopicFilter, topicNameProblem } from './topic-filter.ts'
export { kafkaPlugin }
export default kafkaPlugin
