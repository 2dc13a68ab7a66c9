import type { IHeaders, Producer } from 'kafkajs';

/**
 * What the worker runtime needs of a Kafka client, whichever library is behind it (client.ts for
 * kafkajs, confluent/ for @confluentinc/kafka-javascript): types only, so both adapters depend on
 * this file and neither on the other.
 */

/** How to reach a locked-down Kafka: TLS (a CA, a client certificate) and SASL. Either, both or neither. */
export interface KafkaSecurity {
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer };
  sasl?: { mechanism: 'scram-sha-512' | 'scram-sha-256' | 'plain'; username: string; password: string };
}

/** A partition's next offsets for a transaction (kafkajs' TopicOffsets). */
export interface TransactionOffsets {
  topic: string;
  partitions: { partition: number; offset: string }[];
}

/** One input partition's transactional producer (kafka/transactions.ts), on either client. */
export interface TransactionalProducer {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  /** Begins a transaction; the producer's first initialises its transactional.id, fencing the id's previous owner. */
  transaction(): Promise<OpenTransaction>;
}

/** A transaction in progress: sends like a producer, then commits its outputs and the group's offsets together. */
export interface OpenTransaction extends Pick<Producer, 'send' | 'sendBatch'> {
  sendOffsets(groupId: string, topics: TransactionOffsets[]): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
  isActive(): boolean;
}

/** The worker runtime's consumer settings (kafkajs: consumer config plus subscribe's fromBeginning). */
export interface WorkerConsumerConfig {
  groupId: string;
  sessionTimeout: number;
  heartbeatInterval: number;
  maxBytesPerPartition: number;
  /**
   * A fetch waits at the broker until this many bytes are there, or fetchMaxWaitMs passed: under a
   * steady trickle, fewer and larger batches (each batch costs fixed round trips). Unset: the client's default.
   */
  fetchMinBytes?: number;
  fetchMaxWaitMs?: number;
  /** Where a partition without a committed offset starts. */
  fromBeginning: boolean;
}

/** A consumer's partitions: topic → partition numbers. */
export type Assignment = ReadonlyMap<string, readonly number[]>;

export interface WorkerMessage {
  offset: string;
  timestamp: string;
  key: Buffer | null;
  value: Buffer | null;
  headers?: IHeaders;
  /** The record was written in a transaction (kafkajs tells; the confluent client does not, and leaves it unset). */
  inTransaction?: boolean;
  /**
   * `timestamp` is the broker's append time (a LogAppendTime topic; kafkajs tells, the confluent client leaves
   * it unset: run-worker reads the topic's config instead).
   */
  logAppendTime?: boolean;
}

export interface WorkerBatch {
  topic: string;
  partition: number;
  messages: WorkerMessage[];
  /** Offset of the batch's last record; with kafkajs it can be a transaction marker or an aborted record past the last message. */
  lastOffset(): string;
}

/** Both clients pass closures (no `this`): the worker destructures them, so they are typed as function properties. */
export interface WorkerBatchPayload {
  batch: WorkerBatch;
  resolveOffset: (offset: string) => void;
  heartbeat: () => Promise<void>;
  isRunning: () => boolean;
  isStale: () => boolean;
}

/** Offsets are committed by the worker, never by the client, and batches are resolved by hand. */
export interface WorkerRunConfig {
  autoCommit: false;
  eachBatchAutoResolve: false;
  partitionsConsumedConcurrently: number;
  eachBatch: (payload: WorkerBatchPayload) => Promise<void>;
}

/** What runWorker needs of a consumer: kafkajs' consumer API, with its three events as listeners. */
export interface WorkerConsumer {
  connect(): Promise<void>;
  subscribe(topics: readonly string[]): Promise<void>;
  /** The consumer failed. restart=false: for good, the worker must stop (kafkajs' CRASH event). */
  onCrash(listener: (error: Error, restart: boolean) => void): void;
  /** This member joined the group (again) and has its assignment, topic → partitions (kafkajs' GROUP_JOIN). */
  onGroupJoin(listener: (assignment: Assignment) => void): void;
  /**
   * Records up to `lastOffset` were only transaction markers or aborted records: nothing for eachBatch,
   * yet the position moved past them (kafkajs' END_BATCH_PROCESS of an empty batch).
   */
  onMarkersOnly(listener: (p: { topic: string; partition: number; lastOffset: string }) => void): void;
  run(config: WorkerRunConfig): Promise<void>;
  commitOffsets(offsets: { topic: string; partition: number; offset: string }[]): Promise<void>;
  pause(topics: { topic: string; partitions: number[] }[]): void;
  disconnect(): Promise<void>;
}

/** The admin calls of the worker runtime. */
export interface WorkerAdmin {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  listTopics(): Promise<string[]>;
  /** Partitions without a committed offset may be missing (confluent) or say -1 (kafkajs). */
  fetchOffsets(options: {
    groupId: string;
    topics: string[];
  }): Promise<{ topic: string; partitions: { partition: number; offset: string }[] }[]>;
}
