/**
 * ConfluentClient, the project's Kafka interface (worker-api.ts) on @confluentinc/kafka-javascript, and
 * the adapter that gives its producers kafkajs' Producer contract.
 */
import type { Producer, ProducerBatch, ProducerRecord, RecordMetadata, Logger as KafkajsLogger } from 'kafkajs';
import type { Logger } from '../../log.js';
import type {
  KafkaSecurity,
  OpenTransaction,
  TransactionalProducer,
  WorkerAdmin,
  WorkerConsumer,
  WorkerConsumerConfig,
} from '../worker-api.js';
import {
  confluentCommonConfig,
  confluentLogger,
  confluentProducerConfig,
  confluentTransactionalProducerConfig,
} from './config.js';
import { asKafkajsFenced, fencedCodes } from './errors.js';
import {
  loadConfluent,
  type ConfluentConsumer,
  type ConfluentKafka,
  type ConfluentKafkaJS,
  type ConfluentLogger,
  type ConfluentMessage,
  type ConfluentProducer,
  type ConfluentTransactionalProducer,
} from './library.js';
import { ConfluentWorkerConsumer } from './worker-consumer.js';

/**
 * The worker runtime on @confluentinc/kafka-javascript (librdkafka underneath), through its
 * KafkaJS-compatible API, selected with MEMBERFLOW_KAFKA_CLIENT=confluent (shared/kafka/client.ts).
 *
 * It covers what runWorker uses: the consumer (eachBatch, resolveOffset, isRunning/isStale, commitOffsets,
 * pause, subscribe), the producer of createProducer (send/sendBatch, idempotent, acks -1), the
 * transactional producer of each input partition (its offsets sent with the group's consumer) and the admin
 * calls of run-worker (listTopics, fetchOffsets). Admin tooling, the CLI's own reads and the tests keep
 * kafkajs (kafka.admin(), kafka.consumer() on the kafkajs instance).
 *
 * The package is loaded and typed in library.ts; the consumer is ConfluentWorkerConsumer (worker-consumer.ts).
 */
export class ConfluentClient {
  readonly kafka: ConfluentKafka;
  private readonly api: ConfluentKafkaJS;

  constructor(
    brokers: readonly string[],
    clientId: string,
    private readonly log: Logger,
    security: KafkaSecurity = {},
  ) {
    this.api = loadConfluent();
    this.kafka = new this.api.Kafka(
      confluentCommonConfig(brokers, clientId, confluentLogger(log), log.isLevelEnabled('debug'), security),
    );
  }

  producer(): Producer {
    return new ConfluentProducerAdapter(
      this.kafka.producer(confluentProducerConfig()),
      confluentLogger(this.log),
    ).asKafkajs();
  }

  consumer(config: WorkerConsumerConfig): WorkerConsumer {
    const consumer = new ConfluentWorkerConsumer(this.api, this.kafka, config, this.log);
    this.groupConsumers.set(config.groupId, consumer.handle);
    return consumer;
  }

  /** Each group's worker consumer: a transaction's offsets go with its group metadata (sendOffsets needs it). */
  private readonly groupConsumers = new Map<string, ConfluentConsumer>();

  transactionalProducer(transactionalId: string, timeoutMs: number): TransactionalProducer {
    const producer = this.kafka.producer(
      confluentTransactionalProducerConfig(transactionalId, timeoutMs),
    ) as ConfluentTransactionalProducer;
    const adapter = new ConfluentProducerAdapter(producer, confluentLogger(this.log)).asKafkajs();
    const fenced = fencedCodes(this.api);
    const typed = async <T>(call: () => Promise<T>): Promise<T> => {
      try {
        return await call();
      } catch (err) {
        throw asKafkajsFenced(err, fenced);
      }
    };
    const groupConsumer = (groupId: string): ConfluentConsumer => {
      const consumer = this.groupConsumers.get(groupId);
      if (!consumer)
        throw new Error(
          `no consumer of group ${groupId} in this process: a transaction's offsets need the group's consumer`,
        );
      return consumer;
    };
    const transaction: OpenTransaction = {
      send: (record) => typed(() => adapter.send(record)),
      sendBatch: (batch) => typed(() => adapter.sendBatch(batch)),
      sendOffsets: (groupId, topics) => typed(() => producer.sendOffsets({ consumer: groupConsumer(groupId), topics })),
      commit: () => typed(() => producer.commit()),
      abort: () => typed(() => producer.abort()),
      isActive: () => producer.isActive(),
    };
    return {
      connect: () => typed(() => producer.connect()),
      disconnect: () => producer.disconnect(),
      transaction: async () => {
        await typed(() => producer.transaction());
        return transaction;
      },
    };
  }

  admin(): WorkerAdmin {
    return this.kafka.admin();
  }
}

/** createProducer's contract (kafkajs' Producer) over the compatible producer: send, sendBatch, connect, disconnect. */
class ConfluentProducerAdapter {
  constructor(
    private readonly producer: ConfluentProducer,
    private readonly logger: ConfluentLogger,
  ) {}

  asKafkajs(): Producer {
    const unsupported = (what: string) => new Error(`${what} is not supported with MEMBERFLOW_KAFKA_CLIENT=confluent`);
    const kafkajsLogger: KafkajsLogger = {
      ...this.logger,
      namespace: () => kafkajsLogger,
      setLogLevel: () => undefined,
    };
    return {
      connect: () => this.producer.connect(),
      disconnect: () => this.producer.disconnect(),
      send: (record) => this.send(record),
      sendBatch: (batch) => this.sendBatch(batch),
      isIdempotent: () => true,
      events: {
        CONNECT: 'producer.connect',
        DISCONNECT: 'producer.disconnect',
        REQUEST: 'producer.network.request',
        REQUEST_TIMEOUT: 'producer.network.request_timeout',
        REQUEST_QUEUE_SIZE: 'producer.network.request_queue_size',
      },
      on: () => {
        throw unsupported('producer instrumentation events');
      },
      transaction: () => Promise.reject(unsupported('a transactional producer from createProducer')),
      logger: () => kafkajsLogger,
    };
  }

  private static check(o: { acks?: number; timeout?: number; compression?: unknown }): void {
    // The producer is created with acks -1; anything else per send would silently not apply.
    if (o.acks !== undefined && o.acks !== -1)
      throw new Error(`acks ${o.acks} per send: the confluent producer is configured with acks -1`);
    if (o.timeout !== undefined || (o.compression !== undefined && o.compression !== 0))
      throw new Error('timeout and compression per send are not supported with MEMBERFLOW_KAFKA_CLIENT=confluent');
  }

  /** A copy: the client rewrites the messages it is given (partition, value, headers). */
  private static messages(ms: ProducerRecord['messages']): ConfluentMessage[] {
    return ms.map((m) => {
      const out: ConfluentMessage = { key: m.key ?? null, value: m.value };
      if (m.partition !== undefined) out.partition = m.partition;
      if (m.headers !== undefined) out.headers = { ...m.headers };
      if (m.timestamp !== undefined) out.timestamp = m.timestamp;
      return out;
    });
  }

  private send(record: ProducerRecord): Promise<RecordMetadata[]> {
    ConfluentProducerAdapter.check(record);
    return this.producer.send({ topic: record.topic, messages: ConfluentProducerAdapter.messages(record.messages) });
  }

  private sendBatch(batch: ProducerBatch): Promise<RecordMetadata[]> {
    ConfluentProducerAdapter.check(batch);
    const topicMessages = (batch.topicMessages ?? []).map((t) => ({
      topic: t.topic,
      messages: ConfluentProducerAdapter.messages(t.messages),
    }));
    return this.producer.sendBatch({ topicMessages });
  }
}
