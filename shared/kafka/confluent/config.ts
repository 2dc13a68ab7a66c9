/**
 * Configuration mapping (pure: test/unit/confluent-client.test.ts): kafkajs' settings as the compatible
 * API and librdkafka take them, for the client, its producers and the worker consumer, and its logger.
 */
import type { Logger } from '../../log.js';
import type { KafkaSecurity, WorkerConsumerConfig } from '../worker-api.js';
import type { Config, ConfluentLogger } from './library.js';

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
    // Reports where each partition ends, in order with its records: see MarkerTracker (markers.ts).
    'enable.partition.eof': true,
    rebalance_cb: rebalance,
  };
}
