/**
 * A fresh namespace on the real stack for one bench run: its topics, schemas and Redis keys,
 * the environment its worker processes get, and the clean-up afterwards.
 */
import { randomBytes } from 'node:crypto';
import type { Admin, Producer } from 'kafkajs';
import { connectClients, transactionsSetting, type Clients } from '../../shared/clients.js';
import type { Env } from '../../shared/config/env.js';
import { createProducer, ensureTopics, replicationFor } from '../../shared/kafka/client.js';
import { logicalTopics, physicalTopic, topicSpecs, type LogicalTopic } from '../../shared/contracts/topics.js';
import { waitForTopicLeaders } from '../../shared/kafka/topic-leaders.js';
import type { Logger } from '../../shared/log.js';
import { deleteKeys } from '../../shared/redis/client.js';
import { namespacePattern } from '../../shared/redis/keys.js';

export class BenchNamespace {
  readonly clients: Clients;
  readonly admin: Admin;
  readonly producer: Producer;
  private readonly scratchTopics: string[] = [];

  private constructor(
    readonly ns: string,
    readonly env: Env,
    readonly partitions: number,
    readonly log: Logger,
  ) {
    this.clients = connectClients({ ...env, MEMBERFLOW_NAMESPACE: ns }, log, `bench-${ns}`);
    this.admin = this.clients.kafka.admin();
    this.producer = createProducer(this.clients.kafka);
  }

  static async create(label: string, env: Env, partitions: number, log: Logger): Promise<BenchNamespace> {
    const ns = `b-${label}-${randomBytes(3).toString('hex')}`.toLowerCase().slice(0, 48);
    const b = new BenchNamespace(ns, env, partitions, log);
    await b.admin.connect();
    await b.producer.connect();
    await ensureTopics(b.admin, ns, partitions, topicSpecs);
    await b.clients.codec.registerAll();
    return b;
  }

  topic(logical: LogicalTopic): string {
    return physicalTopic(this.ns, logical);
  }

  /** A topic outside the catalogue (the ceiling's output), deleted with the namespace. */
  async scratchTopic(name: string): Promise<string> {
    const topic = `${this.ns}.${name}`;
    const { replicationFactor, minInsyncReplicas } = replicationFor(
      (await this.admin.describeCluster()).brokers.length,
    );
    await this.admin.createTopics({
      // kafkajs' own wait gives up on a topic the broker does not know yet (shared/kafka/topic-leaders.ts).
      waitForLeaders: false,
      topics: [
        {
          topic,
          numPartitions: this.partitions,
          replicationFactor,
          configEntries: [{ name: 'min.insync.replicas', value: String(minInsyncReplicas) }],
        },
      ],
    });
    await waitForTopicLeaders(this.admin, [topic]);
    this.scratchTopics.push(topic);
    return topic;
  }

  /** What a worker process of this namespace needs in its environment. */
  envVars(): Record<string, string> {
    return {
      KAFKA_BROKERS: this.env.KAFKA_BROKERS.join(','),
      SCHEMA_REGISTRY_URL: this.env.SCHEMA_REGISTRY_URL,
      REDIS_URL: this.env.REDIS_URL,
      ...(this.env.REDIS_CLUSTER_NODES ? { REDIS_CLUSTER_NODES: this.env.REDIS_CLUSTER_NODES.join(',') } : {}),
      ...(this.env.REDIS_WAIT_REPLICAS !== undefined
        ? { REDIS_WAIT_REPLICAS: String(this.env.REDIS_WAIT_REPLICAS) }
        : {}),
      REDIS_WAIT_TIMEOUT_MS: String(this.env.REDIS_WAIT_TIMEOUT_MS),
      MEMBERFLOW_NAMESPACE: this.ns,
      MEMBERFLOW_TOPIC_PARTITIONS: String(this.partitions),
      KAFKA_MAX_BYTES_PER_PARTITION: String(this.env.KAFKA_MAX_BYTES_PER_PARTITION),
      KAFKA_SESSION_TIMEOUT_MS: String(this.env.KAFKA_SESSION_TIMEOUT_MS),
      KAFKA_PARTITIONS_CONCURRENTLY: String(this.env.KAFKA_PARTITIONS_CONCURRENTLY),
      MEMBERFLOW_KAFKA_CLIENT: this.env.MEMBERFLOW_KAFKA_CLIENT,
      MEMBERFLOW_TRANSACTIONS: transactionsSetting(this.env),
      LOG_LEVEL: 'warn',
    };
  }

  /** Sends records in requests of `chunk`, keyed, in order. */
  async produce(
    logical: LogicalTopic,
    records: ReadonlyArray<{ key: string | null; value: string | Buffer | null; timestamp?: number }>,
    chunk = 2000,
  ): Promise<void> {
    for (let i = 0; i < records.length; i += chunk) {
      await this.producer.send({
        topic: this.topic(logical),
        acks: -1,
        messages: records.slice(i, i + chunk).map((r) => ({
          key: r.key,
          value: typeof r.value === 'string' ? Buffer.from(r.value) : r.value,
          ...(r.timestamp === undefined ? {} : { timestamp: String(r.timestamp) }),
        })),
      });
    }
  }

  /** Removes the namespace's topics and Redis keys (a failed clean-up is logged, not fatal). */
  async close(): Promise<void> {
    await this.producer.disconnect().catch(() => undefined);
    try {
      await this.admin.deleteTopics({
        topics: [...logicalTopics.map((t) => this.topic(t)), ...this.scratchTopics],
        timeout: 60_000,
      });
    } catch (err) {
      this.log.warn({ err }, 'could not delete bench topics');
    }
    await this.admin.disconnect().catch(() => undefined);
    await deleteKeys(this.clients.redis, namespacePattern(this.ns));
    await this.clients.close();
  }
}
