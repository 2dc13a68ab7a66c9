import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Producer, ProducerBatch, ProducerRecord, RecordMetadata, Logger as KafkajsLogger } from 'kafkajs';
import type { Logger } from '../log.js';
import type {
  Assignment,
  KafkaSecurity,
  OpenTransaction,
  TransactionalProducer,
  TransactionOffsets,
  WorkerAdmin,
  WorkerBatchPayload,
  WorkerConsumer,
  WorkerConsumerConfig,
  WorkerRunConfig,
} from './worker-api.js';

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
 * The package is an optional dependency (a native build; scripts/npm-ci.sh): it is loaded only when
 * selected, and typed here by the few members used, so the rest type-checks without it.
 *
 * kafkajs' consumer events do not exist in the compatible API (`consumer.on`/`events` throw); what
 * memberflow relied on them for is done here:
 * - CRASH: eachBatch errors are classified as kafkajs would (see batchErrorVerdict). A lasting failure
 *   (a programmer error, a non-retriable error, a fatal librdkafka error) reaches the crash listeners
 *   with restart=false and disconnects the consumer, so the process exits non-zero as with kafkajs;
 *   any other error is retried: the batch is redelivered (the client seeks back) after a backoff like
 *   kafkajs' retrier's. Membership errors at commit (this member left the group) are retried too:
 *   librdkafka re-joins by itself and the partition's new owner redoes the batch.
 * - GROUP_JOIN: the rebalance callback, on each assignment.
 * - END_BATCH_PROCESS of a fetch of only transaction markers or aborted records: librdkafka never
 *   hands those to the application, but it reports the end of a partition (enable.partition.eof) in
 *   order with the records; a gap between the last record read and that end holds no record for us
 *   (MarkerTracker), so once the records before it are committed the listener may commit past it.
 */

// ---------------------------------------------------------------------------------------------
// The subset of @confluentinc/kafka-javascript's KafkaJS API used here (types/kafkajs.d.ts, 1.10.1).

type Config = Record<string, unknown>;

interface ConfluentMessage {
  key?: Buffer | string | null;
  value: Buffer | string | null;
  partition?: number;
  headers?: Record<string, Buffer | string | (Buffer | string)[] | undefined>;
  timestamp?: string;
}

interface ConfluentProducer {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  send(record: { topic: string; messages: ConfluentMessage[] }): Promise<RecordMetadata[]>;
  sendBatch(batch: { topicMessages: { topic: string; messages: ConfluentMessage[] }[] }): Promise<RecordMetadata[]>;
}

/** The compatible producer with a transactional.id: the producer is its own transaction (one at a time). */
interface ConfluentTransactionalProducer extends ConfluentProducer {
  transaction(): Promise<unknown>;
  sendOffsets(arg: { consumer: ConfluentConsumer; topics: TransactionOffsets[] }): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
  isActive(): boolean;
}

interface ConfluentEachBatchPayload extends WorkerBatchPayload {
  isRunning(): boolean;
  isStale(): boolean;
}

interface RdKafkaMessage {
  topic: string;
  partition: number;
  offset: number;
}

interface RdKafkaError extends Error {
  code?: number;
  isFatal?: boolean;
}

/** node-rdkafka's KafkaConsumer under the compatible consumer (an EventEmitter). */
interface RdKafkaConsumer {
  on(event: 'data', listener: (message: RdKafkaMessage) => void): unknown;
  on(event: 'partition.eof', listener: (eof: RdKafkaMessage) => void): unknown;
  on(event: 'event.error', listener: (err: RdKafkaError) => void): unknown;
}

interface ConfluentConsumer {
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

interface ConfluentKafka {
  producer(config: Config): ConfluentProducer;
  consumer(config: Config): ConfluentConsumer;
  admin(config?: Config): WorkerAdmin;
}

interface ConfluentKafkaJS {
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

// ---------------------------------------------------------------------------------------------
// Configuration mapping (pure: test/unit/confluent-client.test.ts).

/** kafkajs' logLevel numbers, which the compatible API shares. */
const logLevels = { NOTHING: 0, ERROR: 1, WARN: 2, INFO: 3, DEBUG: 4 } as const;

/** librdkafka logs into pino, under a `kafka-javascript` component (kafkajs' go under `kafkajs`: shared/log.ts). */
export function confluentLogger(log: Logger): ConfluentLogger {
  const child = log.child({ component: 'kafka-javascript' });
  const fields = (extra?: object): object => {
    if (!extra) return {};
    const { timestamp: _t, ...rest } = extra as Record<string, unknown>;
    return rest;
  };
  const logger: ConfluentLogger = {
    info: (message, extra) => child.info(fields(extra), message),
    error: (message, extra) => child.error(fields(extra), message),
    warn: (message, extra) => child.warn(fields(extra), message),
    debug: (message, extra) => child.debug(fields(extra), message),
    namespace: () => logger,
    // pino filters by its own level; the compatible API asks librdkafka for INFO and up (DEBUG when ours is debug).
    setLogLevel: () => undefined,
  };
  return logger;
}

/** The client-wide block, as createKafka gives kafkajs: brokers, client id, retry backoff, logs. */
export function confluentCommonConfig(
  brokers: readonly string[],
  clientId: string,
  logger: ConfluentLogger,
  debug = false,
  security: KafkaSecurity = {},
): Config {
  const { tls, sasl } = security;
  return {
    kafkaJS: {
      brokers: [...brokers],
      clientId,
      // initialRetryTime → retry.backoff.ms; kafkajs' `retries: 8` has no counterpart (librdkafka retries requests itself).
      retry: { initialRetryTime: 200, maxRetryTime: 30_000 },
      logger,
      logLevel: debug ? logLevels.DEBUG : logLevels.INFO,
      ...(tls ? { ssl: true } : {}),
      ...(sasl ? { sasl: { ...sasl } } : {}),
    },
    // Certificates as PEM text (librdkafka's *.pem properties), not file paths: the same bytes kafkajs gets.
    ...(tls?.ca ? { 'ssl.ca.pem': tls.ca.toString('utf8') } : {}),
    ...(tls?.cert && tls.key
      ? { 'ssl.certificate.pem': tls.cert.toString('utf8'), 'ssl.key.pem': tls.key.toString('utf8') }
      : {}),
  };
}

/**
 * createProducer's kafkajs producer, in librdkafka terms: idempotent, acks -1 (set here: the compatible
 * API refuses `acks` per send), no topic auto-creation, and retries without end as kafkajs'
 * MAX_SAFE_INTEGER (a message that timed out could leave a gap the next one fills out of order).
 * kafkajs' DefaultPartitioner is Java's murmur2 of the key, which librdkafka calls murmur2_random
 * (it differs only for null keys: random instead of round-robin); its own default is CRC32.
 * kafkajs' maxInFlightRequests 1 is not carried over: librdkafka's idempotent producer keeps a
 * partition's order with up to 5 requests in flight.
 */
export function confluentProducerConfig(): Config {
  return {
    kafkaJS: {
      acks: -1,
      allowAutoTopicCreation: false,
      retry: { initialRetryTime: 200, maxRetryTime: 30_000, retries: 2_147_483_647 },
    },
    'enable.idempotence': true,
    partitioner: 'murmur2_random',
    'message.timeout.ms': 0,
  };
}

/**
 * A partition's transactional producer (kafka/transactions.ts): createProducer's settings with a
 * transactional.id, and delivery bounded by the transaction's timeout instead of retried for ever:
 * past it the broker has aborted the transaction anyway, so the batch fails and is redone.
 */
export function confluentTransactionalProducerConfig(transactionalId: string, timeoutMs: number): Config {
  const base = confluentProducerConfig();
  return {
    ...base,
    kafkaJS: { ...(base.kafkaJS as Config), transactionalId, transactionTimeout: timeoutMs },
    'message.timeout.ms': timeoutMs,
  };
}

/** librdkafka's codes for a producer another owner fenced (or whose epoch the broker no longer knows). */
export function fencedCodes(api: Pick<ConfluentKafkaJS, 'ErrorCodes'>): ReadonlySet<number> {
  return new Set(
    [api.ErrorCodes.ERR__FENCED, api.ErrorCodes.ERR_PRODUCER_FENCED, api.ErrorCodes.ERR_INVALID_PRODUCER_EPOCH].filter(
      (c): c is number => c !== undefined,
    ),
  );
}

/**
 * librdkafka says "fenced" by code (its errors carry a type of their own, such as ERR__FENCED); the
 * runtime asks by kafkajs' type (transactions.ts isFencedProducerError): a fenced error is wrapped
 * in one of type PRODUCER_FENCED, the original as its cause. Any other error passes unchanged.
 */
export function asKafkajsFenced(err: unknown, fenced: ReadonlySet<number>): unknown {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  if (typeof code !== 'number' || !fenced.has(code)) return err;
  return Object.assign(new Error(`producer fenced: ${(err as Error).message}`, { cause: err }), {
    name: 'KafkaJSProtocolError',
    type: 'PRODUCER_FENCED',
  });
}

/**
 * Records per eachBatch call. librdkafka cuts batches client-side by count (`js.consumer.max.batch.size`,
 * default 32), kafkajs by the bytes of one fetch (maxBytesPerPartition): the count here is that byte
 * bound over 256 bytes a record (memberflow's JSON and Avro events are 150-400 bytes), so a smaller
 * KAFKA_MAX_BYTES_PER_PARTITION still means smaller batches.
 */
export function maxBatchRecords(maxBytesPerPartition: number): number {
  return Math.max(1, Math.floor(maxBytesPerPartition / 256));
}

export type RebalanceCallback = (err: { code: number }, assignment: { topic: string; partition: number }[]) => void;

/**
 * The worker consumer's config. Placement differs from kafkajs: fromBeginning and autoCommit belong
 * to the consumer here (kafkajs: subscribe and run), the session timeout and heartbeat are the same
 * properties, and maxBytesPerPartition becomes max.partition.fetch.bytes.
 */
export function confluentConsumerConfig(c: WorkerConsumerConfig, rebalance: RebalanceCallback): Config {
  return {
    kafkaJS: {
      groupId: c.groupId,
      fromBeginning: c.fromBeginning,
      autoCommit: false,
      allowAutoTopicCreation: false,
      sessionTimeout: c.sessionTimeout,
      heartbeatInterval: c.heartbeatInterval,
      maxBytesPerPartition: c.maxBytesPerPartition,
    },
    'js.consumer.max.batch.size': maxBatchRecords(c.maxBytesPerPartition),
    ...(c.fetchMinBytes !== undefined ? { 'fetch.min.bytes': c.fetchMinBytes } : {}),
    ...(c.fetchMaxWaitMs !== undefined ? { 'fetch.wait.max.ms': c.fetchMaxWaitMs } : {}),
    // Reports where each partition ends, in order with its records: see MarkerTracker.
    'enable.partition.eof': true,
    rebalance_cb: rebalance,
  };
}

// ---------------------------------------------------------------------------------------------
// Errors in eachBatch: kafkajs' crash-or-restart decision, for a client that retries everything.

const unrecoverable = new Set(['RangeError', 'ReferenceError', 'SyntaxError', 'TypeError']);

/**
 * What kafkajs would do with an error thrown by eachBatch. kafkajs retries it with backoff, then
 * restarts the consumer (CRASH with restart=true), unless it is a programmer error (TypeError,
 * RangeError, ReferenceError, SyntaxError) or says `retriable: false` (e.g. RegistryError when a
 * schema is missing): then CRASH with restart=false and the worker exits. Errors of the confluent
 * client itself carry `retriable` only for transactions: they crash only when fatal.
 */
export function batchErrorVerdict(err: unknown, isClientError: (e: unknown) => boolean): 'crash' | 'retry' {
  if (!err || typeof err !== 'object') return 'retry';
  const e = err as { name?: unknown; retriable?: unknown; fatal?: unknown; isFatal?: unknown };
  if (typeof e.name === 'string' && unrecoverable.has(e.name)) return 'crash';
  if (isClientError(err)) return e.fatal === true || e.isFatal === true ? 'crash' : 'retry';
  return e.retriable === false ? 'crash' : 'retry';
}

/** Backoff before a failed batch is redelivered: kafkajs' retrier with initialRetryTime 200 ms (×2, ±20 %, at most 30 s). */
export function retryDelayMs(failures: number, random: () => number = Math.random): number {
  const base = Math.min(200 * 2 ** Math.max(0, failures - 1), 30_000);
  return Math.min(Math.round(base * (0.8 + 0.4 * random())), 30_000);
}

// ---------------------------------------------------------------------------------------------
// Transaction markers.

interface Tail {
  /** Offset of the last record librdkafka handed over since the assignment (it may still wait in the client's cache). */
  read: bigint | null;
  /** Highest offset resolved by a batch that then returned: committed by run-worker. */
  processed: bigint | null;
  /** End of partition reported after the last record read, not yet acted on. */
  end: bigint | null;
  inFlight: number;
}

/** A gap at the end of a partition that holds no record for us, to commit past. */
export interface MarkerGap {
  topic: string;
  partition: number;
  end: bigint;
  /** The last record read before the gap; null when none was read since the assignment (the gap then starts at the committed offset). */
  after: bigint | null;
}

export interface BatchToken {
  generation: number;
  tail: Tail;
  topic: string;
  partition: number;
}

/**
 * Where a partition's end lies past the last record read, and whether the records before it are done.
 * librdkafka delivers records, and end-of-partition events, in log order; transaction markers and
 * aborted records are skipped without a trace but still advance the position. So when an end E
 * arrives after record R was the last read, offsets R+1..E-1 hold nothing for this consumer; once
 * R is processed (and committed), committing E is what kafkajs does for a markers-only fetch.
 * A rebalance starts over (records and ends of the old assignment say nothing about the new one).
 */
export class MarkerTracker {
  private tails = new Map<string, Tail>();
  private generation = 0;

  private tail(topic: string, partition: number): Tail {
    const k = `${topic}#${partition}`;
    let t = this.tails.get(k);
    if (!t) this.tails.set(k, (t = { read: null, processed: null, end: null, inFlight: 0 }));
    return t;
  }

  rebalanced(): void {
    this.generation++;
    this.tails = new Map();
  }

  record(topic: string, partition: number, offset: number | bigint): void {
    const t = this.tail(topic, partition);
    t.read = BigInt(offset);
    t.end = null;
  }

  endOfPartition(topic: string, partition: number, offset: number | bigint): MarkerGap | null {
    this.tail(topic, partition).end = BigInt(offset);
    return this.due(topic, partition);
  }

  batchStarted(topic: string, partition: number): BatchToken {
    const tail = this.tail(topic, partition);
    tail.inFlight++;
    return { generation: this.generation, tail, topic, partition };
  }

  /** `resolved`: the highest offset the batch resolved, when it returned normally (null when it threw or resolved none). */
  batchEnded(token: BatchToken, resolved: bigint | null): MarkerGap | null {
    token.tail.inFlight--;
    if (token.generation !== this.generation) return null;
    if (resolved !== null && (token.tail.processed === null || resolved > token.tail.processed))
      token.tail.processed = resolved;
    return this.due(token.topic, token.partition);
  }

  private due(topic: string, partition: number): MarkerGap | null {
    const t = this.tail(topic, partition);
    if (t.end === null || t.inFlight > 0) return null;
    if (t.read !== null && t.processed !== t.read) return null;
    const end = t.end;
    t.end = null;
    if (t.read !== null && end <= t.read + 1n) return null;
    return { topic, partition, end, after: t.read };
  }
}

// ---------------------------------------------------------------------------------------------
// The client.

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

type CrashListener = (error: Error, restart: boolean) => void;

/**
 * The compatible consumer rewinds a batch left unresolved by queueing a seek, which its run loop
 * performs later, inside a promise nobody holds. When a worker abandons its batches because it is
 * leaving (a promote moved the live pointer, or a stop), the disconnect can come first: the queued
 * seek then fails with ERR__STATE ("... can only be called while connected") as an unhandled
 * rejection, and Node ends the process, which was about to carry on in its new generation. That
 * one error while a consumer of this process disconnects is harmless (the abandoned batch was
 * never committed: the group's next owner reads it again); it is logged and ignored. Any other
 * unhandled rejection still ends the process, as without the listener.
 */
const disconnectingConsumers = new Set<object>();
/** How long after a disconnect a queued seek of that consumer may still fail. */
const staleSeekGraceMs = 5_000;
let staleSeekGuardInstalled = false;

export function isStaleSeekAfterDisconnect(
  reason: unknown,
  api: Pick<ConfluentKafkaJS, 'isKafkaJSError' | 'ErrorCodes'>,
  disconnecting: boolean,
): boolean {
  if (!disconnecting || !api.isKafkaJSError(reason)) return false;
  const e = reason as { code?: unknown; message?: unknown };
  return (
    e.code === api.ErrorCodes.ERR__STATE &&
    typeof e.message === 'string' &&
    /can only be called while connected/.test(e.message)
  );
}

function installStaleSeekGuard(api: ConfluentKafkaJS, log: Logger): void {
  if (staleSeekGuardInstalled) return;
  staleSeekGuardInstalled = true;
  process.on('unhandledRejection', (reason) => {
    if (isStaleSeekAfterDisconnect(reason, api, disconnectingConsumers.size > 0)) {
      log.warn(
        { err: reason },
        'a rewind the client queued before disconnecting failed: ignored (the batch was not committed)',
      );
      return;
    }
    throw reason;
  });
}

class ConfluentWorkerConsumer implements WorkerConsumer {
  private readonly consumer: ConfluentConsumer;
  private readonly crashListeners: CrashListener[] = [];
  private readonly joinListeners: ((assignment: Assignment) => void)[] = [];
  private readonly markerListeners: ((p: { topic: string; partition: number; lastOffset: string }) => void)[] = [];
  private readonly markers = new MarkerTracker();
  private readonly failures = new Map<string, number>();
  private readonly stopSignal = new AbortController();
  private crashed: Error | null = null;
  private disconnecting: Promise<void> | null = null;
  private readonly wlog: Logger;

  constructor(
    private readonly api: ConfluentKafkaJS,
    kafka: ConfluentKafka,
    config: WorkerConsumerConfig,
    log: Logger,
  ) {
    this.wlog = log.child({ component: 'kafka-javascript', group: config.groupId });
    this.consumer = kafka.consumer(
      confluentConsumerConfig(config, (err, assignment) => this.onRebalance(err.code, assignment)),
    );
  }

  /** The compatible consumer itself, for a transaction's sendOffsets. */
  get handle(): ConfluentConsumer {
    return this.consumer;
  }

  async connect(): Promise<void> {
    await this.consumer.connect();
    const internal = this.consumer._getInternalClient?.() ?? null;
    if (!internal) {
      // Only with a different package version than the one pinned: say what is lost.
      this.wlog.warn(
        'no access to the librdkafka consumer: transaction markers at a partition end are not committed past, fatal client errors only show in logs',
      );
      return;
    }
    internal.on('data', (m) => this.markers.record(m.topic, m.partition, m.offset));
    internal.on('partition.eof', (e) => this.onGap(this.markers.endOfPartition(e.topic, e.partition, e.offset)));
    internal.on('event.error', (err) => {
      if (err.isFatal !== true && err.code !== this.api.ErrorCodes.ERR__FATAL) return;
      this.crash(err);
    });
  }

  subscribe(topics: readonly string[]): Promise<void> {
    return this.consumer.subscribe({ topics: [...topics] });
  }

  onCrash(listener: CrashListener): void {
    this.crashListeners.push(listener);
  }

  onGroupJoin(listener: (assignment: Assignment) => void): void {
    this.joinListeners.push(listener);
  }

  onMarkersOnly(listener: (p: { topic: string; partition: number; lastOffset: string }) => void): void {
    this.markerListeners.push(listener);
  }

  run(config: WorkerRunConfig): Promise<void> {
    return this.consumer.run({
      eachBatchAutoResolve: config.eachBatchAutoResolve,
      partitionsConsumedConcurrently: config.partitionsConsumedConcurrently,
      eachBatch: (payload) => this.eachBatch(payload, config.eachBatch),
    });
  }

  commitOffsets(offsets: { topic: string; partition: number; offset: string }[]): Promise<void> {
    return this.consumer.commitOffsets(offsets);
  }

  pause(topics: { topic: string; partitions: number[] }[]): void {
    this.consumer.pause(topics);
  }

  disconnect(): Promise<void> {
    this.stopSignal.abort();
    if (!this.disconnecting) {
      installStaleSeekGuard(this.api, this.wlog);
      const token = {};
      disconnectingConsumers.add(token);
      const settled = () => void setTimeout(() => disconnectingConsumers.delete(token), staleSeekGraceMs).unref();
      this.disconnecting = this.consumer.disconnect();
      this.disconnecting.then(settled, settled);
    }
    return this.disconnecting;
  }

  private onRebalance(code: number, assignment: readonly { topic: string; partition: number }[]): void {
    this.markers.rebalanced();
    if (code !== this.api.ErrorCodes.ERR__ASSIGN_PARTITIONS) return;
    const byTopic = new Map<string, number[]>();
    for (const { topic, partition } of assignment) byTopic.set(topic, [...(byTopic.get(topic) ?? []), partition]);
    for (const l of this.joinListeners) {
      try {
        l(byTopic);
      } catch (err) {
        this.wlog.warn({ err }, 'group join listener failed');
      }
    }
  }

  private async eachBatch(payload: ConfluentEachBatchPayload, handler: WorkerRunConfig['eachBatch']): Promise<void> {
    const { topic, partition } = payload.batch;
    // Going away for good: leave the batch unresolved (the client seeks back; the next owner reads it).
    if (this.crashed) throw this.crashed;
    const token = this.markers.batchStarted(topic, partition);
    let resolved: bigint | null = null;
    try {
      await handler({
        batch: payload.batch,
        heartbeat: () => payload.heartbeat(),
        // The compatible API's isRunning stays true while disconnecting: say false, as kafkajs does.
        isRunning: () => payload.isRunning() && !this.stopSignal.signal.aborted,
        isStale: () => payload.isStale(),
        resolveOffset: (offset: string) => {
          payload.resolveOffset(offset);
          const o = BigInt(offset);
          if (resolved === null || o > resolved) resolved = o;
        },
      });
    } catch (err) {
      this.markers.batchEnded(token, null);
      await this.failed(topic, partition, err);
      throw err;
    }
    this.failures.delete(`${topic}#${partition}`);
    this.onGap(this.markers.batchEnded(token, resolved));
  }

  /** A batch threw: crash for good, or back off before the client redelivers it. */
  private async failed(topic: string, partition: number, err: unknown): Promise<void> {
    const error = err instanceof Error ? err : new Error(String(err));
    if (batchErrorVerdict(err, (e) => this.api.isKafkaJSError(e)) === 'crash') {
      this.crash(error);
      return;
    }
    const k = `${topic}#${partition}`;
    const n = (this.failures.get(k) ?? 0) + 1;
    this.failures.set(k, n);
    for (const l of this.crashListeners) l(error, true);
    await sleep(retryDelayMs(n), undefined, { signal: this.stopSignal.signal }).catch(() => undefined);
  }

  /** kafkajs' CRASH with restart=false: the consumer disconnects, the listeners make the worker stop. */
  private crash(error: Error): void {
    if (this.crashed) return;
    this.crashed = error;
    for (const l of this.crashListeners) l(error, false);
    // Once the failing batch has returned (the client then seeks back to its first record): a
    // disconnect waits for the batch in progress, which may be the caller.
    setImmediate(
      () => void this.disconnect().catch((err: unknown) => this.wlog.warn({ err }, 'disconnect after a crash failed')),
    );
  }

  private onGap(gap: MarkerGap | null): void {
    if (!gap || this.crashed || this.stopSignal.signal.aborted) return;
    const fire = () => {
      for (const l of this.markerListeners)
        l({ topic: gap.topic, partition: gap.partition, lastOffset: String(gap.end - 1n) });
    };
    if (gap.after !== null) {
      fire();
      return;
    }
    // Nothing read since the assignment: the gap starts at the committed offset. Without one (a new
    // group) there is nothing to move past, and committing would make the group look used.
    this.consumer
      .committed([{ topic: gap.topic, partition: gap.partition }])
      .then(([c]) => {
        const committed = c?.offset === null || c?.offset === undefined ? -1n : BigInt(c.offset);
        if (committed >= 0n && gap.end > committed) fire();
      })
      .catch((err: unknown) =>
        this.wlog.warn({ err, topic: gap.topic, partition: gap.partition }, 'could not read the committed offset'),
      );
  }
}
