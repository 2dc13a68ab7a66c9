package io.memberflow.examples;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.DecoderFactory;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * The core of a notification service on memberflow's tier topics: bootstrap from member.tiers,
 * then follow member.tier-changes, acting once on every change after the table (README.md).
 * Prints one JSON line per member of the table ("bootstrap"), then one per change ("notify").
 */
public final class Notifier {
  /** Forwarded ticks are JSON, not Avro; memberflow's tier topics carry none, behavior.events and points.ledger do. */
  private static final String TICK_HEADER = "memberflow-tick";
  private static final ObjectMapper JSON = new ObjectMapper();

  private final String registryUrl;
  private final HttpClient http = HttpClient.newHttpClient();
  private final Map<Integer, Schema> schemas = new HashMap<>();

  private Notifier(String registryUrl) {
    this.registryUrl = registryUrl;
  }

  public static void main(String[] args) throws Exception {
    String brokers = env("KAFKA_BROKERS", "127.0.0.1:9092");
    String namespace = env("MEMBERFLOW_NAMESPACE", "memberflow");
    Notifier notifier = new Notifier(env("SCHEMA_REGISTRY_URL", "http://127.0.0.1:8081/apis/ccompat/v7"));
    try (KafkaConsumer<byte[], byte[]> tiers = consumer(brokers); KafkaConsumer<byte[], byte[]> changes = consumer(brokers)) {
      // 0. Where the changes will be followed from: each partition's end now, which for a read_committed
      //    consumer is the last stable offset (no open transaction has a record below it).
      String changesTopic = namespace + ".member.tier-changes";
      List<TopicPartition> partitions = partitionsOf(changes, changesTopic);
      Map<TopicPartition, Long> followFrom = changes.endOffsets(partitions);
      // 1. The table: each member's tier and the sequence of the tier change it reflects.
      Map<String, GenericRecord> table = new LinkedHashMap<>();
      for (ConsumerRecord<byte[], byte[]> r : readToEnd(tiers, namespace + ".member.tiers")) {
        GenericRecord v = notifier.decode(r);
        if (v != null) table.put(v.get("userId").toString(), v);
      }
      for (GenericRecord v : table.values()) {
        print(Map.of("type", "bootstrap", "member", v.get("userId").toString(), "tier", v.get("tier").toString(), "sequence", sequence(v), "changeEventId", v.get("changeEventId").toString()));
      }
      // 2. The changes from step 0's offsets: a change not committed then is at or after them, and a change the
      //    table holds has a sequence not greater than its member's table record. Records written before memberflow
      //    had sequences carry "": with one of those in the table, read from the beginning and skip that member's
      //    changes up to the table's changeEventId (a member's changes are in one partition, in order).
      Set<String> legacy = new HashSet<>();
      table.forEach((member, v) -> {
        if (sequence(v).isEmpty()) legacy.add(member);
      });
      changes.assign(partitions);
      if (legacy.isEmpty()) followFrom.forEach(changes::seek);
      else changes.seekToBeginning(partitions);
      Thread main = Thread.currentThread();
      Runtime.getRuntime().addShutdownHook(new Thread(() -> {
        changes.wakeup();
        try {
          main.join(5_000);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }));
      try {
        for (;;) {
          for (ConsumerRecord<byte[], byte[]> r : changes.poll(Duration.ofMillis(500))) {
            GenericRecord change = notifier.decode(r);
            if (change == null) continue;
            String member = change.get("userId").toString();
            String eventId = change.get("eventId").toString();
            GenericRecord known = table.get(member);
            if (known != null) {
              if (!legacy.contains(member)) {
                if (sequence(change).compareTo(sequence(known)) <= 0) continue;
              } else {
                if (eventId.equals(known.get("changeEventId").toString())) table.remove(member);
                continue;
              }
            }
            Map<String, Object> line = new LinkedHashMap<>();
            line.put("type", "notify");
            line.put("member", member);
            line.put("eventId", eventId);
            line.put("sequence", sequence(change));
            line.put("kind", change.get("kind").toString());
            line.put("newTier", change.get("newTier").toString());
            print(line);
          }
        }
      } catch (WakeupException stopping) {
        // SIGTERM: the shutdown hook woke the poll.
      }
    }
  }

  /** read_committed: records of aborted transactions (a worker killed mid-batch) are never returned. */
  private static KafkaConsumer<byte[], byte[]> consumer(String brokers) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, brokers);
    p.put(ConsumerConfig.GROUP_ID_CONFIG, "java-notifier-" + UUID.randomUUID());
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    return new KafkaConsumer<>(p);
  }

  private static List<TopicPartition> partitionsOf(KafkaConsumer<byte[], byte[]> consumer, String topic) {
    List<TopicPartition> out = new ArrayList<>();
    consumer.partitionsFor(topic).forEach(i -> out.add(new TopicPartition(topic, i.partition())));
    if (out.isEmpty()) throw new IllegalStateException("topic " + topic + " does not exist: check MEMBERFLOW_NAMESPACE");
    return out;
  }

  /** Everything below each partition's end as it is now; with read_committed the end is the last stable offset, and the position passes commit markers. */
  private static List<ConsumerRecord<byte[], byte[]>> readToEnd(KafkaConsumer<byte[], byte[]> consumer, String topic) {
    List<TopicPartition> partitions = partitionsOf(consumer, topic);
    consumer.assign(partitions);
    consumer.seekToBeginning(partitions);
    Map<TopicPartition, Long> ends = consumer.endOffsets(partitions);
    List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
    while (partitions.stream().anyMatch(tp -> consumer.position(tp) < ends.get(tp))) {
      for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
        if (r.offset() < ends.get(new TopicPartition(r.topic(), r.partition()))) out.add(r);
      }
    }
    return out;
  }

  /** Confluent wire format: byte 0, the schema id (4 bytes, big-endian), the Avro body. Null for a tick. */
  private GenericRecord decode(ConsumerRecord<byte[], byte[]> r) throws Exception {
    if (r.headers().lastHeader(TICK_HEADER) != null || r.value() == null) return null;
    ByteBuffer buf = ByteBuffer.wrap(r.value());
    if (buf.get() != 0) throw new IllegalStateException("not Confluent-framed Avro: " + r.topic() + "#" + r.partition() + "@" + r.offset());
    Schema writer = schema(buf.getInt());
    GenericDatumReader<GenericRecord> reader = new GenericDatumReader<>(writer);
    return reader.read(null, DecoderFactory.get().binaryDecoder(r.value(), buf.position(), r.value().length - buf.position(), null));
  }

  /** The writer's schema by id (GET /schemas/ids/{id}, Confluent API), once per id. */
  private Schema schema(int id) throws Exception {
    Schema cached = schemas.get(id);
    if (cached != null) return cached;
    HttpRequest req = HttpRequest.newBuilder(URI.create(registryUrl + "/schemas/ids/" + URLEncoder.encode(String.valueOf(id), StandardCharsets.UTF_8))).GET().build();
    HttpResponse<String> res = http.send(req, HttpResponse.BodyHandlers.ofString());
    if (res.statusCode() != 200) throw new IllegalStateException("registry answered " + res.statusCode() + " for schema id " + id);
    Schema schema = new Schema.Parser().parse(JSON.readTree(res.body()).get("schema").asText());
    schemas.put(id, schema);
    return schema;
  }

  /** A tier record's sequence; "" in records of schemas before the field. */
  private static String sequence(GenericRecord v) {
    Object s = v.getSchema().getField("sequence") == null ? null : v.get("sequence");
    return s == null ? "" : s.toString();
  }

  private static void print(Map<String, ?> line) throws Exception {
    System.out.println(JSON.writeValueAsString(line));
    System.out.flush();
  }

  private static String env(String name, String fallback) {
    String v = System.getenv(name);
    return v == null || v.isEmpty() ? fallback : v;
  }
}
