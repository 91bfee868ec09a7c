import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.main.Main;

/**
 * The seed's iPaaS step as an Apache Camel route: kafka:telemetry → transform → kafka:actions.
 *
 * Each telemetry reading becomes an action ("close the valve" above a temperature threshold).
 * What the action keeps of the reading depends on -Diotload.keep:
 *   envelope   (default) the whole reading under `original`, iotload's envelope included
 *              → consumer.external.envelopePath: $.original.iotload
 *   id         the reading without its envelope or timestamp; only `msgId` identifies it
 *              → consumer.external.correlationPath: $.msgId
 *   timestamp  the seed's own way: `original.lastUpdated` copied, nothing else of iotload's
 *              → consumer.external.timestampPath: $.original.lastUpdated
 * Every action also carries `receivedAt` (when the route got the record) and `decidedAt` (when the
 * transform finished, just before the Kafka send), both µs since the epoch, for the per-leg split
 * (consumer.external.legs).
 *
 * Pipeline (iotload.pipeline): handed one record at a time, Camel's Kafka consumer waits until
 * the route has finished with it, and a Kafka send finishes when the broker acknowledges it: the
 * plain route (`sync`) does one record per produce round trip per consumer thread (a few ms on a
 * busy broker). The default, `seda`, hands each action to an in-memory SEDA queue instead, from
 * which one thread sends them in order without waiting for acknowledgements (the usual Camel
 * decoupling; a crash can lose what is queued). `batch` uses camel-kafka's batching consumer: a
 * poll's records are transformed one by one and sent together, one acknowledgement wait per poll.
 * The route scales by partitions as in the seed ("increasing the partition count to 10 per kafka
 * topic"): it creates both topics with iotload.partitions partitions when they do not exist yet,
 * and runs iotload.consumers consumer threads.
 *
 * Settings (system properties): iotload.brokers (127.0.0.1:9092), iotload.from (iotload-camel-telemetry),
 * iotload.to (iotload-camel-actions), iotload.group (iotload-camel), iotload.partitions (10),
 * iotload.consumers (4), iotload.pipeline (seda), iotload.keep (envelope), iotload.threshold (25), and
 * for tests iotload.drop=<device>:<modulus>:<remainder> (drop that device's readings whose iotload
 * seq, from the envelope or the msgId, leaves that remainder: a known loss to find again).
 */
public final class IotloadCamelRoute extends RouteBuilder {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final String keep = System.getProperty("iotload.keep", "envelope");
  private final double threshold = Double.parseDouble(System.getProperty("iotload.threshold", "25"));
  private final long[] drop = parseDrop(System.getProperty("iotload.drop", ""));

  private static long[] parseDrop(String spec) {
    if (spec.isEmpty()) return null;
    String[] p = spec.split(":");
    return new long[] {Long.parseLong(p[0]), Long.parseLong(p[1]), Long.parseLong(p[2])};
  }

  /** The reading's iotload seq: from the envelope, else from the msgId (`<run>-<device>-<seq>`); -1 if neither. */
  private static long seqOf(JsonNode in) {
    if (in.path("iotload").has("seq")) return in.path("iotload").path("seq").asLong();
    String id = in.path("msgId").asText("");
    int dash = id.lastIndexOf('-');
    try {
      return dash < 0 ? -1 : Long.parseLong(id.substring(dash + 1));
    } catch (NumberFormatException err) {
      return -1;
    }
  }

  private boolean dropped(JsonNode in) {
    return drop != null && in.path("device").asLong(-1) == drop[0] && seqOf(in) % drop[1] == drop[2];
  }

  /** Wall-clock µs since the epoch (Instant has µs precision on Linux with Java 17). */
  static long nowUs() {
    Instant i = Instant.now();
    return i.getEpochSecond() * 1_000_000L + i.getNano() / 1_000;
  }

  @Override
  public void configure() {
    String brokers = System.getProperty("iotload.brokers", "127.0.0.1:9092");
    String from = System.getProperty("iotload.from", "iotload-camel-telemetry");
    String to = System.getProperty("iotload.to", "iotload-camel-actions");
    String group = System.getProperty("iotload.group", "iotload-camel");
    String consumers = System.getProperty("iotload.consumers", "4");
    int partitions = Integer.parseInt(System.getProperty("iotload.partitions", "10"));
    if (!keep.equals("envelope") && !keep.equals("id") && !keep.equals("timestamp"))
      throw new IllegalArgumentException("iotload.keep must be envelope, id or timestamp, not " + keep);
    createTopics(brokers, partitions, from, to);

    String pipeline = System.getProperty("iotload.pipeline", "seda");
    String consumer = "kafka:" + from + "?brokers=" + brokers + "&groupId=" + group + "&consumersCount=" + consumers
        + "&autoOffsetReset=latest&pollTimeoutMs=100&fetchWaitMaxMs=100";
    // batchWithIndividualHeaders: each action of a batch keeps its own record headers (traceparent).
    String producer = "kafka:" + to + "?brokers=" + brokers + "&lingerMs=0&batchWithIndividualHeaders=true";
    switch (pipeline) {
      case "batch" -> from(consumer + "&batching=true&batchingIntervalMs=1&maxPollRecords=500")
          // batchingIntervalMs: hand over what a poll returned; without it camel-kafka 4.18 holds a
          // batch until 500 records have gathered (hundreds of ms at 1,000 msg/s).
          .routeId("iotload-telemetry-to-actions")
          .process(this::transformBatch)
          .to(producer);
      case "sync", "seda" -> {
        from(consumer)
            .routeId("iotload-telemetry-to-actions")
            // Stamped first: the time Kafka and the consumer took is leg 3, not the transform's.
            .process(e -> e.setProperty("receivedAt", nowUs()))
            .filter(e -> transform(e, e.getProperty("receivedAt", Long.class)))
            .process(e -> dropRecordHeaders(e.getMessage()))
            .to(pipeline.equals("sync") ? producer : "seda:actions?waitForTaskToComplete=Never&blockWhenFull=true&size=100000");
        if (pipeline.equals("seda"))
          // One sender thread, in order; the Kafka producer's sends complete asynchronously.
          from("seda:actions?concurrentConsumers=1&size=100000").routeId("iotload-actions-to-kafka").to(producer);
      }
      default -> throw new IllegalArgumentException("iotload.pipeline must be seda, sync or batch, not " + pipeline);
    }
  }

  /** A poll's records: each transformed in place, then sent as one Iterable (keys kept per record). */
  private void transformBatch(Exchange batch) {
    long receivedAt = nowUs();
    List<?> records = batch.getMessage().getBody(List.class);
    List<Exchange> actions = new java.util.ArrayList<>(records.size());
    for (Object r : records) {
      Exchange record = (Exchange) r;
      if (!transform(record, receivedAt)) continue;
      dropRecordHeaders(record.getMessage());
      actions.add(record);
    }
    batch.getMessage().setBody(actions);
  }

  /** The input record's partition and commit handle belong to the input topic; its key (the device) stays. */
  private static void dropRecordHeaders(Message m) {
    m.removeHeaders("kafka.PARTITION*");
    m.removeHeaders("kafka.OVERRIDE*");
    m.removeHeaders("CamelKafka*");
  }

  /** Creates the topics that do not exist yet (the broker would auto-create them with one partition). */
  private static void createTopics(String brokers, int partitions, String... names) {
    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, brokers))) {
      Set<String> existing = admin.listTopics().names().get();
      List<NewTopic> missing = java.util.Arrays.stream(names)
          .filter(n -> !existing.contains(n))
          .map(n -> new NewTopic(n, partitions, (short) 1))
          .toList();
      if (!missing.isEmpty()) admin.createTopics(missing).all().get();
    } catch (Exception err) {
      // Another client may have created one in the meantime: the route works with what exists.
      System.err.println("iotload-camel: topic creation: " + err.getMessage());
    }
  }

  /** Turns the reading into its action, in place; false when the reading is dropped (iotload.drop). */
  private boolean transform(Exchange e, long receivedAt) {
    JsonNode in;
    try {
      in = JSON.readTree(e.getMessage().getBody(String.class));
    } catch (com.fasterxml.jackson.core.JsonProcessingException err) {
      throw new IllegalArgumentException("not a JSON reading", err);
    }
    if (dropped(in)) return false;
    ObjectNode action = JSON.createObjectNode();
    double temperature = in.path("temperature").asDouble(Double.NaN);
    action.put("command", temperature > threshold ? "close-valve" : "none");
    if (in.has("device")) action.set("device", in.get("device"));
    if (!Double.isNaN(temperature)) action.put("reading", temperature);
    if (in.has("msgId")) action.set("msgId", in.get("msgId"));
    ObjectNode original = JSON.createObjectNode();
    switch (keep) {
      case "envelope" -> {
        if (in.isObject()) original.setAll((ObjectNode) in);
      }
      case "timestamp" -> {
        if (in.has("lastUpdated")) original.set("lastUpdated", in.get("lastUpdated"));
      }
      default -> {
        if (in.isObject()) original.setAll((ObjectNode) in);
        original.remove("iotload");
        original.remove("lastUpdated");
      }
    }
    action.set("original", original);
    action.put("receivedAt", receivedAt);
    action.put("decidedAt", nowUs());
    e.getMessage().setBody(action.toString());
    return true;
  }

  public static void main(String[] args) throws Exception {
    Main main = new Main();
    main.configure().addRoutesBuilder(new IotloadCamelRoute());
    main.run(args);
  }
}
