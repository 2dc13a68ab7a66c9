import { Kafka, Partitioners, type Admin, type Producer } from 'kafkajs';
import type { Logger } from '../log.js';
import { kafkaLogCreator } from '../log.js';
import { tickHeader } from '../kernel/ticks.js';
import type { OutputEvent } from '../kernel/types.js';
import type { AvroCodec } from '../registry/codec.js';
import { physicalTopic, topicSpecs, type LogicalTopic, type TopicSpec } from './topics.js';

/**
 * The only place that knows kafkajs. The rest of memberflow sees records,
 * outputs and a few admin calls, so the client can be replaced.
 */
export function createKafka(brokers: string[], clientId: string, log: Logger): Kafka {
  return new Kafka({
    clientId,
    brokers,
    logCreator: kafkaLogCreator(log),
    retry: { initialRetryTime: 200, retries: 8 },
  });
}

/** An idempotent producer: retries cannot duplicate or reorder a partition's records. */
export function createProducer(kafka: Kafka): Producer {
  return kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
    // Idempotence needs unlimited retries: a bounded count could drop a record the broker never saw.
    retry: { retries: Number.MAX_SAFE_INTEGER, maxRetryTime: 30_000 },
  });
}

export interface EnsureTopicsResult {
  created: string[];
  existing: string[];
}

/** Creates the namespace's topics when missing; existing topics are left as they are. */
export async function ensureTopics(
  admin: Admin,
  namespace: string,
  partitions: number,
  specs: readonly TopicSpec[] = topicSpecs,
): Promise<EnsureTopicsResult> {
  const existing = new Set(await admin.listTopics());
  const wanted = specs.map((s) => ({ spec: s, name: physicalTopic(namespace, s.logical) }));
  const missing = wanted.filter((w) => !existing.has(w.name));
  if (missing.length > 0) {
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((w) => ({
        topic: w.name,
        numPartitions: partitions,
        replicationFactor: 1,
        configEntries: Object.entries(w.spec.config).map(([name, value]) => ({ name, value })),
      })),
    });
  }
  return {
    created: missing.map((w) => w.name),
    existing: wanted.filter((w) => existing.has(w.name)).map((w) => w.name),
  };
}

export const eventIdHeader = 'memberflow-event-id';

/**
 * Encodes outputs through the registry and sends them in order. Requests are
 * cut at `maxRequestBytes` because the broker refuses a record batch above
 * its message size limit (1 MiB by default); sequential sends on an
 * idempotent producer keep each partition's order.
 */
export class OutputPublisher {
  constructor(
    private readonly producer: Producer,
    private readonly codec: AvroCodec,
    private readonly namespace: string,
    private readonly maxRequestBytes = 512 * 1024,
  ) {}

  async publish(outputs: readonly OutputEvent[]): Promise<void> {
    let byTopic = new Map<LogicalTopic, { key: string; value: Buffer; headers: Record<string, string> }[]>();
    let bytes = 0;
    const flush = async () => {
      if (byTopic.size === 0) return;
      await this.producer.sendBatch({
        acks: -1,
        topicMessages: [...byTopic].map(([topic, messages]) => ({ topic: physicalTopic(this.namespace, topic), messages })),
      });
      byTopic = new Map();
      bytes = 0;
    };
    for (const out of outputs) {
      if (out.tick) {
        // Ticks go to one partition, in order with the rest: flush what came before, then send it alone.
        await flush();
        await this.producer.send({
          topic: physicalTopic(this.namespace, out.topic),
          acks: -1,
          messages: [{ key: out.key, partition: out.tick.partition, value: JSON.stringify(out.value), headers: { [eventIdHeader]: out.id, [tickHeader]: String(out.tick.time) } }],
        });
        continue;
      }
      const value = await this.codec.encode(out.topic, out.value);
      const size = value.length + Buffer.byteLength(out.key) + Buffer.byteLength(out.id) + 64;
      if (bytes + size > this.maxRequestBytes) await flush();
      let list = byTopic.get(out.topic);
      if (!list) byTopic.set(out.topic, (list = []));
      list.push({ key: out.key, value, headers: { [eventIdHeader]: out.id } });
      bytes += size;
    }
    await flush();
  }
}
