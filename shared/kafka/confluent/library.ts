/**
 * The subset of @confluentinc/kafka-javascript's KafkaJS API used here (types/kafkajs.d.ts, 1.10.1), and its loading.
 */
import { createRequire } from 'node:module';
import type { RecordMetadata } from 'kafkajs';
import type { TransactionOffsets, WorkerAdmin, WorkerBatchPayload } from '../worker-api.js';

// The package is an optional dependency (a native build; scripts/npm-ci.sh): it is loaded only when
// selected, and typed here by the few members used, so the rest type-checks without it.

export type Config = Record<string, unknown>;

export interface ConfluentMessage {
  key?: Buffer | string | null;
  value: Buffer | string | null;
  partition?: number;
  headers?: Record<string, Buffer | string | (Buffer | string)[] | undefined>;
  timestamp?: string;
}

export interface ConfluentProducer {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  send(record: { topic: string; messages: ConfluentMessage[] }): Promise<RecordMetadata[]>;
  sendBatch(batch: { topicMessages: { topic: string; messages: ConfluentMessage[] }[] }): Promise<RecordMetadata[]>;
}

/** The compatible producer with a transactional.id: the producer is its own transaction (one at a time). */
export interface ConfluentTransactionalProducer extends ConfluentProducer {
  transaction(): Promise<unknown>;
  sendOffsets(arg: { consumer: ConfluentConsumer; topics: TransactionOffsets[] }): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
  isActive(): boolean;
}

export interface ConfluentEachBatchPayload extends WorkerBatchPayload {
  isRunning(): boolean;
  isStale(): boolean;
}

export interface RdKafkaMessage {
  topic: string;
  partition: number;
  offset: number;
}

export interface RdKafkaError extends Error {
  code?: number;
  isFatal?: boolean;
}

/** node-rdkafka's KafkaConsumer under the compatible consumer (an EventEmitter). */
export interface RdKafkaConsumer {
  on(event: 'data', listener: (message: RdKafkaMessage) => void): unknown;
  on(event: 'partition.eof', listener: (eof: RdKafkaMessage) => void): unknown;
  on(event: 'event.error', listener: (err: RdKafkaError) => void): unknown;
}

export interface ConfluentConsumer {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  subscribe(subscription: { topics: string[] }): Promise<void>;
  run(config: {
    eachBatchAutoResolve: boolean;
    partitionsConsumedConcurrently: number;
    eachBatch: (payload: ConfluentEachBatchPayload) => Promise<void>;
  }): Promise<void>;
  commitOffsets(offsets: { topic: string; partition: number; offset: string }[]): Promise<void>;
  committed(
    partitions: { topic: string; partition: number }[],
  ): Promise<{ topic: string; partition: number; offset: string | null }[]>;
  pause(topics: { topic: string; partitions: number[] }[]): void;
  /** Marked internal by the package; used for record/end-of-partition events and fatal errors. */
  _getInternalClient?(): RdKafkaConsumer | null;
}

export interface ConfluentKafka {
  producer(config: Config): ConfluentProducer;
  consumer(config: Config): ConfluentConsumer;
  admin(config?: Config): WorkerAdmin;
}

export interface ConfluentKafkaJS {
  Kafka: new (config: Config) => ConfluentKafka;
  isKafkaJSError(error: unknown): boolean;
  ErrorCodes: Record<string, number>;
  logLevel: { NOTHING: number; ERROR: number; WARN: number; INFO: number; DEBUG: number };
}

/** The compatible API's logger (types/kafkajs.d.ts `Logger`). */
export interface ConfluentLogger {
  info(message: string, extra?: object): void;
  error(message: string, extra?: object): void;
  warn(message: string, extra?: object): void;
  debug(message: string, extra?: object): void;
  namespace(namespace: string, logLevel?: number): ConfluentLogger;
  setLogLevel(logLevel: number): void;
}

const requireCjs = createRequire(import.meta.url);
let loaded: ConfluentKafkaJS | undefined;

/** The package's KafkaJS namespace, or a message saying how to get it. */
export function loadConfluent(): ConfluentKafkaJS {
  if (loaded) return loaded;
  try {
    loaded = (requireCjs('@confluentinc/kafka-javascript') as { KafkaJS: ConfluentKafkaJS }).KafkaJS;
  } catch (err) {
    throw new Error(
      'MEMBERFLOW_KAFKA_CLIENT=confluent needs the optional dependency @confluentinc/kafka-javascript, which is missing or did not build ' +
        `(${(err as Error).message.split('\n')[0]}); install it with \`bash scripts/npm-ci.sh\`, or use MEMBERFLOW_KAFKA_CLIENT=kafkajs`,
      { cause: err },
    );
  }
  return loaded;
}
