import kafkajsEnums, {
  Kafka,
  Partitioners,
  type Admin,
  type Consumer,
  type KafkaConfig,
  type Producer,
  type SASLOptions,
} from 'kafkajs';
import type { Logger } from '../log.js';
import { kafkaLogCreator } from '../log.js';
import { tickHeader } from '../kernel/ticks.js';
import type { OutputEvent } from '../kernel/types.js';
import type { AvroCodec } from '../registry/codec.js';
import { ConfluentClient } from './confluent/client.js';
import { waitForTopicLeaders } from './topic-leaders.js';
import type {
  Assignment,
  KafkaSecurity,
  TransactionalProducer,
  WorkerAdmin,
  WorkerConsumer,
  WorkerConsumerConfig,
  WorkerMessage,
  WorkerRunConfig,
} from './worker-api.js';
import { hasBrokerErrorType, isTransientClusterError, restartDelayMs } from './transient.js';
import {
  enforcedOnExisting,
  physicalTopic,
  topicSpecs,
  type LogicalTopic,
  type TopicSpec,
} from '../contracts/topics.js';

/** The worker runtime's view of a Kafka client (shared/kafka/worker-api.ts), for callers that import the client. */
export type {
  Assignment,
  KafkaSecurity,
  OpenTransaction,
  TransactionOffsets,
  TransactionalProducer,
  WorkerAdmin,
  WorkerBatch,
  WorkerBatchPayload,
  WorkerConsumer,
  WorkerConsumerConfig,
  WorkerMessage,
  WorkerRunConfig,
} from './worker-api.js';

/**
 * The only place that knows the Kafka client. The rest of memberflow sees records,
 * outputs and a few admin calls, so the client can be replaced.
 *
 * Two clients run the workers (MEMBERFLOW_KAFKA_CLIENT): kafkajs, the default, and confluent,
 * @confluentinc/kafka-javascript's KafkaJS-compatible API over librdkafka (./confluent/). Either way
 * createKafka returns a kafkajs `Kafka`: admin tooling, the CLI's own reads and the tests use it
 * directly and stay on kafkajs; what the worker runtime builds from it (createProducer,
 * createWorkerConsumer, createWorkerAdmin) uses the selected client.
 */
export type KafkaClientKind = 'kafkajs' | 'confluent';

const confluentClients = new WeakMap<Kafka, ConfluentClient>();

/** How workers built on a `Kafka` deliver outputs: in a transaction per batch (with its timeout), or not (`false`). */
export type Delivery = { timeoutMs: number } | false;
const deliveries = new WeakMap<Kafka, Delivery>();

/** kafkajs' ssl and sasl settings for a KafkaSecurity. */
export function kafkajsSecurity(security: KafkaSecurity = {}): Pick<KafkaConfig, 'ssl' | 'sasl'> {
  const out: Pick<KafkaConfig, 'ssl' | 'sasl'> = {};
  if (security.tls) {
    const { ca, cert, key } = security.tls;
    out.ssl = ca || cert ? { ...(ca ? { ca: [ca] } : {}), ...(cert && key ? { cert, key } : {}) } : true;
  }
  if (security.sasl) out.sasl = { ...security.sasl } as SASLOptions;
  return out;
}

export function createKafka(
  brokers: string[],
  clientId: string,
  log: Logger,
  client: KafkaClientKind = 'kafkajs',
  delivery?: Delivery,
  security: KafkaSecurity = {},
): Kafka {
  const kafka = new Kafka({
    clientId,
    brokers,
    ...kafkajsSecurity(security),
    logCreator: kafkaLogCreator(log),
    retry: { initialRetryTime: 200, retries: 8 },
  });
  // Loaded now, so a missing optional dependency stops the process at start with a message.
  if (client === 'confluent') confluentClients.set(kafka, new ConfluentClient(brokers, clientId, log, security));
  deliveries.set(kafka, delivery ?? { timeoutMs: 30_000 });
  return kafka;
}

/** Whether workers on this `Kafka` publish in transactions (MEMBERFLOW_TRANSACTIONS; on by default). */
export function deliveryOf(kafka: Kafka): Delivery {
  return deliveries.get(kafka) ?? false;
}

/** Which client the worker runtime gets from this `Kafka`. */
export function kafkaClientOf(kafka: Kafka): KafkaClientKind {
  return confluentClients.has(kafka) ? 'confluent' : 'kafkajs';
}

/** An idempotent producer: retries cannot duplicate or reorder a partition's records. */
export function createProducer(kafka: Kafka): Producer {
  const confluent = confluentClients.get(kafka);
  if (confluent) return confluent.producer();
  return kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
    // Idempotence needs unlimited retries: a bounded count could drop a record the broker never saw.
    retry: { retries: Number.MAX_SAFE_INTEGER, maxRetryTime: 30_000 },
  });
}

/**
 * A transactional producer for `transactionalId`. With the confluent client the offsets go with the
 * group's consumer metadata (KIP-447: the broker also refuses a commit from an old generation).
 */
export function createTransactionalProducer(
  kafka: Kafka,
  transactionalId: string,
  timeoutMs: number,
): TransactionalProducer {
  const confluent = confluentClients.get(kafka);
  if (confluent) return confluent.transactionalProducer(transactionalId, timeoutMs);
  const producer = kafka.producer({
    transactionalId,
    transactionTimeout: timeoutMs,
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
    // A batch's first send right after the previous commit often meets CONCURRENT_TRANSACTIONS (the
    // coordinator is still writing the markers). kafkajs retries it like any error, after 300 ms by
    // default; the Java client waits 20 ms there (ADD_PARTITIONS_RETRY_BACKOFF_MS). The backoff still doubles.
    retry: { retries: Number.MAX_SAFE_INTEGER, maxRetryTime: 30_000, initialRetryTime: transactionRetryMs },
  });
  return {
    connect: () => producer.connect(),
    disconnect: () => producer.disconnect(),
    async transaction() {
      const txn = await producer.transaction();
      return {
        send: (record) => txn.send(record),
        sendBatch: (batch) => txn.sendBatch(batch),
        sendOffsets: (groupId, topics) =>
          whileConcurrentTransactions(() => txn.sendOffsets({ consumerGroupId: groupId, topics })),
        commit: () => txn.commit(),
        abort: () => txn.abort(),
        isActive: () => txn.isActive(),
      };
    },
  };
}

/** The first retry's backoff of a transactional producer (see createTransactionalProducer). */
const transactionRetryMs = 20;

/**
 * Retries AddOffsetsToTxn refused with CONCURRENT_TRANSACTIONS (a batch with offsets and no output starts
 * right after the previous commit): kafkajs retries it in a send but not in sendOffsets, and the refusal
 * changed nothing, so asking again is safe. Anything else, or the same refusal for 30 s, is thrown.
 */
async function whileConcurrentTransactions(sendOffsets: () => Promise<void>): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (let backoff = transactionRetryMs; ; backoff = Math.min(backoff * 2, 1000)) {
    try {
      await sendOffsets();
      return;
    } catch (err) {
      if (!hasBrokerErrorType(err, concurrentTransactions) || Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, backoff));
    }
  }
}
const concurrentTransactions: ReadonlySet<string> = new Set(['CONCURRENT_TRANSACTIONS']);

export function createWorkerConsumer(kafka: Kafka, config: WorkerConsumerConfig): WorkerConsumer {
  const confluent = confluentClients.get(kafka);
  if (confluent) return confluent.consumer(config);
  return new KafkajsWorkerConsumer(
    kafka.consumer({
      groupId: config.groupId,
      allowAutoTopicCreation: false,
      sessionTimeout: config.sessionTimeout,
      heartbeatInterval: config.heartbeatInterval,
      maxBytesPerPartition: config.maxBytesPerPartition,
      ...(config.fetchMinBytes !== undefined ? { minBytes: config.fetchMinBytes } : {}),
      ...(config.fetchMaxWaitMs !== undefined ? { maxWaitTimeInMs: config.fetchMaxWaitMs } : {}),
    }),
    config.fromBeginning,
  );
}

export function createWorkerAdmin(kafka: Kafka): WorkerAdmin {
  return confluentClients.get(kafka)?.admin() ?? kafka.admin();
}

class KafkajsWorkerConsumer implements WorkerConsumer {
  private readonly crashListeners: ((error: Error, restart: boolean) => void)[] = [];
  private runConfig: WorkerRunConfig | null = null;
  private restarts = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private disconnecting = false;

  constructor(
    private readonly consumer: Consumer,
    private readonly fromBeginning: boolean,
  ) {
    // kafkajs restarts itself after retriable errors only; a coordinator or leader that moved to
    // another broker is "non-retriable" to it (transient.ts). Those restart here, with a backoff.
    this.consumer.on(this.consumer.events.CRASH, ({ payload }) => {
      const restartHere =
        !payload.restart && !this.disconnecting && this.runConfig !== null && isTransientClusterError(payload.error);
      if (restartHere) this.restartLater();
      for (const l of this.crashListeners) l(payload.error, payload.restart || restartHere);
    });
    this.consumer.on(this.consumer.events.GROUP_JOIN, () => (this.restarts = 0));
  }

  private restartLater(): void {
    const delay = restartDelayMs(++this.restarts);
    clearTimeout(this.restartTimer);
    this.restartTimer = setTimeout(() => {
      if (this.disconnecting || !this.runConfig) return;
      // The crash disconnected the consumer; run connects again and keeps the subscriptions.
      this.consumer.run(this.runConfig).catch((err: unknown) => {
        const restart = !this.disconnecting && isTransientClusterError(err);
        if (restart) this.restartLater();
        for (const l of this.crashListeners) l(err as Error, restart);
      });
    }, delay);
  }

  connect(): Promise<void> {
    return this.consumer.connect();
  }

  async subscribe(topics: readonly string[]): Promise<void> {
    for (const topic of topics) await this.consumer.subscribe({ topic, fromBeginning: this.fromBeginning });
  }

  onCrash(listener: (error: Error, restart: boolean) => void): void {
    this.crashListeners.push(listener);
  }

  onGroupJoin(listener: (assignment: Assignment) => void): void {
    this.consumer.on(this.consumer.events.GROUP_JOIN, ({ payload }) =>
      listener(new Map(Object.entries(payload.memberAssignment))),
    );
  }

  onMarkersOnly(listener: (p: { topic: string; partition: number; lastOffset: string }) => void): void {
    // kafkajs resolves such a fetch itself and emits END_BATCH_PROCESS with batchSize 0.
    this.consumer.on(this.consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      const { topic, partition, batchSize, lastOffset } = payload as {
        topic: string;
        partition: number;
        batchSize: number;
        lastOffset: string | null;
      };
      if (batchSize !== 0 || lastOffset === null) return;
      listener({ topic, partition, lastOffset });
    });
  }

  run(config: WorkerRunConfig): Promise<void> {
    const { eachBatch } = config;
    this.runConfig = {
      ...config,
      eachBatch: (payload) => {
        // kafkajs keeps the record batch's flags on each message as batchContext (timestampType 1: LogAppendTime).
        for (const m of payload.batch.messages as (WorkerMessage & {
          batchContext?: { inTransaction?: boolean; timestampType?: number };
        })[]) {
          m.inTransaction = m.batchContext?.inTransaction === true;
          m.logAppendTime = m.batchContext?.timestampType === 1;
        }
        return eachBatch(payload);
      },
    };
    return this.consumer.run(this.runConfig);
  }

  commitOffsets(offsets: { topic: string; partition: number; offset: string }[]): Promise<void> {
    return this.consumer.commitOffsets(offsets);
  }

  pause(topics: { topic: string; partitions: number[] }[]): void {
    this.consumer.pause(topics);
  }

  disconnect(): Promise<void> {
    this.disconnecting = true;
    clearTimeout(this.restartTimer);
    return this.consumer.disconnect();
  }
}

export interface EnsureTopicsResult {
  created: string[];
  existing: string[];
  /** Existing topics whose enforced settings (topics.ts enforcedOnExisting) were changed. */
  altered: string[];
}

/**
 * Replication of new topics on a cluster of `brokers` brokers: three copies where there are three
 * brokers or more, with writes acknowledged by two (acks -1 then survives one broker down and
 * never rests on one copy); one copy on a single broker.
 */
export function replicationFor(brokers: number): { replicationFactor: number; minInsyncReplicas: number } {
  const replicationFactor = Math.max(1, Math.min(3, brokers));
  return { replicationFactor, minInsyncReplicas: replicationFactor >= 3 ? 2 : 1 };
}

/** Creates the namespace's topics when missing, replicated as the cluster allows; existing topics are left as they are. */
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
    const { replicationFactor, minInsyncReplicas } = replicationFor((await admin.describeCluster()).brokers.length);
    await admin.createTopics({
      // Its wait fails on a topic the broker does not know yet: waitForTopicLeaders also waits for that.
      waitForLeaders: false,
      topics: missing.map((w) => ({
        topic: w.name,
        numPartitions: partitions,
        replicationFactor,
        configEntries: [...Object.entries(w.spec.config), ['min.insync.replicas', String(minInsyncReplicas)]].map(
          ([name, value]) => ({ name: name!, value: value! }),
        ),
      })),
    });
    await waitForTopicLeaders(
      admin,
      missing.map((w) => w.name),
    );
  }
  const present = wanted.filter((w) => existing.has(w.name));
  const altered: string[] = [];
  for (const w of present) if (await enforceSettings(admin, w.name, w.spec)) altered.push(w.name);
  return { created: missing.map((w) => w.name), existing: present.map((w) => w.name), altered };
}

/**
 * Which of these topics stamp records with the broker's append time (message.timestamp.type
 * LogAppendTime), for a client that does not say so per record (the confluent client). Topics that do
 * not exist are left out.
 */
export async function logAppendTimeTopics(kafka: Kafka, topics: readonly string[]): Promise<Set<string>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const names = topics.filter((t) => existing.has(t));
    if (names.length === 0) return new Set();
    const { TOPIC } = kafkajsEnums.ConfigResourceTypes;
    const described = await admin.describeConfigs({
      resources: names.map((name) => ({ type: TOPIC, name, configNames: ['message.timestamp.type'] })),
      includeSynonyms: false,
    });
    return new Set(
      described.resources
        .filter((r) =>
          r.configEntries.some((e) => e.configName === 'message.timestamp.type' && e.configValue === 'LogAppendTime'),
        )
        .map((r) => r.resourceName),
    );
  } finally {
    await admin.disconnect();
  }
}

/**
 * Brings an existing topic's enforced settings to the spec's; true when it changed one. kafkajs has
 * only the non-incremental AlterConfigs, which resets every setting it is not given: the topic's own
 * settings are read first and sent back with the change.
 */
async function enforceSettings(admin: Admin, topic: string, spec: TopicSpec): Promise<boolean> {
  const wanted = Object.entries(spec.config).filter(([name]) => enforcedOnExisting.includes(name));
  if (wanted.length === 0) return false;
  const { TOPIC } = kafkajsEnums.ConfigResourceTypes;
  const described = await admin.describeConfigs({ resources: [{ type: TOPIC, name: topic }], includeSynonyms: false });
  const entries = described.resources[0]?.configEntries ?? [];
  if (wanted.every(([name, value]) => entries.find((e) => e.configName === name)?.configValue === value)) return false;
  const own = entries.filter(
    (e) => e.configSource === kafkajsEnums.ConfigSource.TOPIC_CONFIG && !wanted.some(([name]) => name === e.configName),
  );
  await admin.alterConfigs({
    validateOnly: false,
    resources: [
      {
        type: TOPIC,
        name: topic,
        configEntries: [
          ...own.map((e) => ({ name: e.configName, value: e.configValue })),
          ...wanted.map(([name, value]) => ({ name, value })),
        ],
      },
    ],
  });
  return true;
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
    /** A producer, or a transaction (which sends like one). */
    private producer: Pick<Producer, 'send' | 'sendBatch'>,
    private readonly codec: AvroCodec,
    private readonly namespace: string,
    /** Partitions of an output topic: set, each record's partition is chosen here and every one is checked acknowledged. */
    private readonly partitionsOf?: (topic: string) => Promise<number>,
    /** A fresh, connected producer in place of one whose idempotence state the broker refused. */
    private readonly renewProducer?: () => Promise<Producer>,
    /** Sending inside a transaction, which a batch written twice fails (it is aborted and redone). */
    private readonly transactional = false,
    private readonly maxRequestBytes = 512 * 1024,
  ) {}

  async publish(outputs: readonly OutputEvent[]): Promise<void> {
    try {
      await this.send(outputs);
    } catch (err) {
      if (!this.renewProducer || !isProducerStateError(err)) throw err;
      // After a whole cluster restart a kafkajs idempotent producer can be refused for good (its sequence numbers
      // no longer match the broker's): a new producer id starts clean, and the batch is redone with the same ids.
      this.producer = await this.renewProducer();
      throw new ProducerRenewedError(err as Error);
    }
  }

  private async send(outputs: readonly OutputEvent[]): Promise<void> {
    // `partition` stays unset here; it is declared so a topic's messages type-check as sent with or without one.
    let byTopic = new Map<
      LogicalTopic,
      { key: string; value: Buffer; headers: Record<string, string>; partition?: number }[]
    >();
    let bytes = 0;
    const flush = async () => {
      if (byTopic.size === 0) return;
      const topicMessages = await Promise.all(
        [...byTopic].map(async ([logical, messages]) => {
          const topic = physicalTopic(this.namespace, logical);
          if (!this.partitionsOf) return { topic, messages };
          const count = await this.partitionsOf(topic);
          return { topic, messages: messages.map((m) => ({ ...m, partition: partitionOfKey(topic, m.key, count) })) };
        }),
      );
      const acknowledged = await this.producer.sendBatch({ acks: -1, topicMessages });
      if (this.partitionsOf) {
        const missing = unacknowledgedPartitions(topicMessages, acknowledged);
        if (missing.length > 0) throw new UnacknowledgedRecordsError(missing);
      }
      // In a transaction a partition written twice can still be undone: abort, and the batch is redone.
      if (this.transactional) {
        const twice = twiceAcknowledgedPartitions(acknowledged);
        if (twice.length > 0) throw new RecordsWrittenTwiceError(twice);
      }
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
          messages: [
            {
              key: out.key,
              partition: out.tick.partition,
              value: JSON.stringify(out.value),
              headers: { [eventIdHeader]: out.id, [tickHeader]: String(out.tick.time) },
            },
          ],
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

/**
 * kafkajs' sendBatch keeps each broker's reply across its retries and, after a leader moved to a broker
 * that had already replied, sends nothing for that partition yet reports success: a partition leader
 * killed under load lost a run of outputs that way. So the publisher names each record's partition
 * and checks that every partition written was acknowledged; if not, the batch fails and is redone
 * (its outputs go again with the same ids; none is lost).
 */
export class UnacknowledgedRecordsError extends Error {
  override name = 'UnacknowledgedRecordsError';
  readonly retriable = true;
  constructor(readonly partitions: string[]) {
    super(
      `the producer reported success but no broker acknowledged the records of ${partitions.length} partition(s): ${partitions.slice(0, 5).join(', ')}`,
    );
  }
}

/**
 * The other side of the same kafkajs retry: a partition whose leader moved from a broker that had
 * already written and acknowledged it to one that had not replied yet is sent again, with the
 * sequence numbers already advanced, so the new leader appends it a second time. The replies then
 * acknowledge that partition twice (seen after all three brokers were SIGKILLed at once: tier
 * changes committed twice). Inside a transaction the batch fails, its transaction is aborted and
 * it is redone.
 */
export class RecordsWrittenTwiceError extends Error {
  override name = 'RecordsWrittenTwiceError';
  readonly retriable = true;
  constructor(readonly partitions: string[]) {
    super(
      `the producer's retry wrote the records of ${partitions.length} partition(s) twice: ${partitions.slice(0, 5).join(', ')}`,
    );
  }
}

/** "topic#partition" of every partition more than one reply acknowledged. */
export function twiceAcknowledgedPartitions(
  acknowledged: ReadonlyArray<{ topicName: string; partition: number; errorCode?: number }>,
): string[] {
  const seen = new Set<string>();
  const twice = new Set<string>();
  for (const a of acknowledged) {
    if (a.errorCode) continue;
    const k = `${a.topicName}#${a.partition}`;
    if (seen.has(k)) twice.add(k);
    seen.add(k);
  }
  return [...twice];
}

const keyPartitioner = Partitioners.DefaultPartitioner();
// The partitioner reads only the count (and leaders, for keyless records): one list per count, not one per record.
const metadataByCount = new Map<
  number,
  { partitionId: number; leader: number; replicas: number[]; isr: number[]; partitionErrorCode: number }[]
>();

/** The partition kafkajs' default partitioner (murmur2 of the key) gives a keyed record among `count`. */
export function partitionOfKey(topic: string, key: string, count: number): number {
  let partitionMetadata = metadataByCount.get(count);
  if (!partitionMetadata) {
    partitionMetadata = Array.from({ length: count }, (_, partitionId) => ({
      partitionId,
      leader: 0,
      replicas: [0],
      isr: [0],
      partitionErrorCode: 0,
    }));
    metadataByCount.set(count, partitionMetadata);
  }
  return keyPartitioner({ topic, partitionMetadata, message: { key, value: null } });
}

/** "topic#partition" of every partition that records were sent to and that no reply acknowledged. */
export function unacknowledgedPartitions(
  sent: ReadonlyArray<{ topic: string; messages: ReadonlyArray<{ partition?: number }> }>,
  acknowledged: ReadonlyArray<{ topicName: string; partition: number; errorCode?: number }>,
): string[] {
  const acked = new Set(acknowledged.filter((a) => !a.errorCode).map((a) => `${a.topicName}#${a.partition}`));
  const missing = new Set<string>();
  for (const { topic, messages } of sent)
    for (const m of messages)
      if (m.partition !== undefined && !acked.has(`${topic}#${m.partition}`)) missing.add(`${topic}#${m.partition}`);
  return [...missing];
}

/** Partition counts of topics, asked once per topic (a running worker's output topics keep theirs). */
export function partitionCounter(kafka: Kafka): { of: (topic: string) => Promise<number>; close(): Promise<void> } {
  const counts = new Map<string, Promise<number>>();
  let admin: Admin | undefined;
  const ask = async (topic: string): Promise<number> => {
    if (!admin) {
      admin = kafka.admin();
      await admin.connect();
    }
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    const count = meta.topics[0]?.partitions.length ?? 0;
    if (count === 0) throw new Error(`topic ${topic} has no partitions the client can see`);
    return count;
  };
  return {
    of(topic) {
      let c = counts.get(topic);
      if (!c) {
        c = ask(topic);
        counts.set(topic, c);
        c.catch(() => counts.delete(topic));
      }
      return c;
    },
    async close() {
      await admin?.disconnect();
    },
  };
}

/** The broker refused the idempotent producer's state: only a new producer id gets past it. */
const producerStateTypes = new Set(['OUT_OF_ORDER_SEQUENCE_NUMBER', 'UNKNOWN_PRODUCER_ID', 'INVALID_PRODUCER_EPOCH']);

export function isProducerStateError(err: unknown): boolean {
  return hasBrokerErrorType(err, producerStateTypes);
}

/** The batch's outputs were refused with the old producer's state; a new producer sends them when the batch is redone. */
export class ProducerRenewedError extends Error {
  override name = 'ProducerRenewedError';
  readonly retriable = true;
  constructor(cause: Error) {
    super("the broker refused the producer's sequence numbers: producer renewed, the batch is redone", { cause });
  }
}
