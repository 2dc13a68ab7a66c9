import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadEnv } from '../../shared/config/env.js';
import { batchErrorVerdict, retryDelayMs } from '../../shared/kafka/confluent/batch-errors.js';
import {
  confluentCommonConfig,
  confluentConsumerConfig,
  confluentLogger,
  confluentProducerConfig,
  confluentTransactionalProducerConfig,
  maxBatchRecords,
} from '../../shared/kafka/confluent/config.js';
import { asKafkajsFenced, fencedCodes } from '../../shared/kafka/confluent/errors.js';
import { loadConfluent } from '../../shared/kafka/confluent/library.js';
import { MarkerTracker } from '../../shared/kafka/confluent/markers.js';
import { isStaleSeekAfterDisconnect } from '../../shared/kafka/confluent/stale-seek-guard.js';

describe('MEMBERFLOW_KAFKA_CLIENT', () => {
  it('defaults to kafkajs and accepts confluent', () => {
    expect(loadEnv({}).MEMBERFLOW_KAFKA_CLIENT).toBe('kafkajs');
    expect(loadEnv({ MEMBERFLOW_KAFKA_CLIENT: 'confluent' }).MEMBERFLOW_KAFKA_CLIENT).toBe('confluent');
  });

  it('names the variable when the value is unknown', () => {
    expect(() => loadEnv({ MEMBERFLOW_KAFKA_CLIENT: 'rdkafka' })).toThrow(ConfigError);
    expect(() => loadEnv({ MEMBERFLOW_KAFKA_CLIENT: 'rdkafka' })).toThrow(/MEMBERFLOW_KAFKA_CLIENT: /);
  });
});

describe('confluent client configuration', () => {
  const logger = confluentLogger(pino({ level: 'silent' }));

  it('puts the common settings in the kafkaJS block', () => {
    const c = confluentCommonConfig(['127.0.0.1:9092', 'b:9093'], 'memberflow-x', logger);
    expect(c).toEqual({
      kafkaJS: {
        brokers: ['127.0.0.1:9092', 'b:9093'],
        clientId: 'memberflow-x',
        retry: { initialRetryTime: 200, maxRetryTime: 30_000 },
        logger,
        logLevel: 3,
      },
    });
    expect((confluentCommonConfig([], 'x', logger, true).kafkaJS as { logLevel: number }).logLevel).toBe(4);
  });

  it("keeps kafkajs' partitioner (Java murmur2), idempotence, acks -1 and unlimited retries on the producer", () => {
    const c = confluentProducerConfig();
    expect(c.partitioner).toBe('murmur2_random');
    expect(c['enable.idempotence']).toBe(true);
    expect(c['message.timeout.ms']).toBe(0);
    expect(c.kafkaJS).toEqual({
      acks: -1,
      allowAutoTopicCreation: false,
      retry: { initialRetryTime: 200, maxRetryTime: 30_000, retries: 2_147_483_647 },
    });
    // The compatible API refuses a custom partitioner and per-send acks.
    expect(c.kafkaJS).not.toHaveProperty('createPartitioner');
  });

  it("gives a partition's transactional producer its id and timeout, and delivery bounded by that timeout", () => {
    const c = confluentTransactionalProducerConfig('ns.w~topic~3', 30_000);
    expect(c.kafkaJS).toMatchObject({ acks: -1, transactionalId: 'ns.w~topic~3', transactionTimeout: 30_000 });
    expect(c['enable.idempotence']).toBe(true);
    expect(c.partitioner).toBe('murmur2_random');
    // Not for ever (createProducer's 0): past the transaction's timeout the broker has aborted it anyway.
    expect(c['message.timeout.ms']).toBe(30_000);
    expect(confluentProducerConfig()['message.timeout.ms']).toBe(0);
  });

  it("reports librdkafka's fenced errors as kafkajs' PRODUCER_FENCED, so a fenced batch is retried, not a crash", async () => {
    const api = loadConfluent() as unknown as {
      KafkaJSError: new (e: Error, p: { code: number }) => Error & { type?: string };
      ErrorCodes: Record<string, number>;
    };
    const { isFencedProducerError } = await import('../../shared/kafka/transactions.js');
    const codes = fencedCodes(api);
    for (const name of ['ERR__FENCED', 'ERR_PRODUCER_FENCED', 'ERR_INVALID_PRODUCER_EPOCH']) {
      const err = new api.KafkaJSError(new Error('fenced by a newer owner'), { code: api.ErrorCodes[name]! });
      expect(err.type, name).toBe(name); // the library's own type, which the runtime does not know
      expect(isFencedProducerError(err), name).toBe(false);
      expect(isFencedProducerError(asKafkajsFenced(err, codes)), name).toBe(true);
    }
    const other = new api.KafkaJSError(new Error('timed out'), { code: api.ErrorCodes.ERR__TIMED_OUT! });
    expect(asKafkajsFenced(other, codes)).toBe(other);
  });

  it('moves fromBeginning and autoCommit to the consumer, and sizes batches from the byte bound', () => {
    const rebalance = () => undefined;
    const c = confluentConsumerConfig(
      {
        groupId: 'ns.w',
        sessionTimeout: 6000,
        heartbeatInterval: 2000,
        maxBytesPerPartition: 32_768,
        fromBeginning: true,
      },
      rebalance,
    );
    expect(c.kafkaJS).toEqual({
      groupId: 'ns.w',
      fromBeginning: true,
      autoCommit: false,
      allowAutoTopicCreation: false,
      sessionTimeout: 6000,
      heartbeatInterval: 2000,
      maxBytesPerPartition: 32_768,
    });
    expect(c['js.consumer.max.batch.size']).toBe(128);
    expect(c['enable.partition.eof']).toBe(true);
    expect(c.rebalance_cb).toBe(rebalance);
  });

  it('passes the fetch wait settings only when set', () => {
    const base = {
      groupId: 'ns.w',
      sessionTimeout: 6000,
      heartbeatInterval: 2000,
      maxBytesPerPartition: 32_768,
      fromBeginning: true,
    };
    const set = confluentConsumerConfig({ ...base, fetchMinBytes: 65_536, fetchMaxWaitMs: 25 }, () => undefined);
    expect(set['fetch.min.bytes']).toBe(65_536);
    expect(set['fetch.wait.max.ms']).toBe(25);
    const unset = confluentConsumerConfig(base, () => undefined);
    expect('fetch.min.bytes' in unset).toBe(false);
    expect('fetch.wait.max.ms' in unset).toBe(false);
  });

  it('reads the fetch wait settings from the environment, unset by default', () => {
    expect(loadEnv({}).KAFKA_FETCH_MIN_BYTES).toBeUndefined();
    expect(loadEnv({ KAFKA_FETCH_MIN_BYTES: '65536', KAFKA_FETCH_MAX_WAIT_MS: '25' })).toMatchObject({
      KAFKA_FETCH_MIN_BYTES: 65_536,
      KAFKA_FETCH_MAX_WAIT_MS: 25,
    });
    expect(() => loadEnv({ KAFKA_FETCH_MAX_WAIT_MS: '0' })).toThrow(/KAFKA_FETCH_MAX_WAIT_MS/);
  });

  it('cuts batches at the fetch bytes over 256 bytes a record, at least one', () => {
    expect(maxBatchRecords(1_048_576)).toBe(4096);
    expect(maxBatchRecords(4096)).toBe(16);
    expect(maxBatchRecords(100)).toBe(1);
  });

  it("routes librdkafka logs into pino under component kafka-javascript, without the client's timestamp", () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        done();
      },
    });
    const l = confluentLogger(pino({ level: 'info' }, sink));
    l.warn('broker down', { fac: 'FAIL', name: 'rdkafka#consumer-1', timestamp: 1 });
    l.debug('not shown');
    l.namespace('x').error('boom');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      level: 40,
      component: 'kafka-javascript',
      fac: 'FAIL',
      name: 'rdkafka#consumer-1',
      msg: 'broker down',
    });
    expect(lines[0]).not.toHaveProperty('timestamp');
    expect(lines[1]).toMatchObject({ level: 50, msg: 'boom' });
  });
});

describe('an error thrown by eachBatch, as kafkajs would treat it', () => {
  const clientErrors = new Set<unknown>();
  const isClientError = (e: unknown) => clientErrors.has(e);
  const clientError = (fatal: boolean) => {
    const e = Object.assign(new Error('x'), { code: 25, fatal, retriable: false, type: 'ERR_UNKNOWN_MEMBER_ID' });
    clientErrors.add(e);
    return e;
  };

  it('crashes on programmer errors and on errors that say they are not retriable', () => {
    expect(batchErrorVerdict(new TypeError('x'), isClientError)).toBe('crash');
    expect(batchErrorVerdict(new RangeError('x'), isClientError)).toBe('crash');
    expect(batchErrorVerdict(Object.assign(new Error('schema missing'), { retriable: false }), isClientError)).toBe(
      'crash',
    );
  });

  it("retries anything else, including the client's own non-fatal errors (retriable means nothing there outside transactions)", () => {
    expect(batchErrorVerdict(new Error('redis down'), isClientError)).toBe('retry');
    expect(batchErrorVerdict(Object.assign(new Error('fenced'), { retriable: true }), isClientError)).toBe('retry');
    expect(batchErrorVerdict(clientError(false), isClientError)).toBe('retry');
    expect(batchErrorVerdict('a string', isClientError)).toBe('retry');
  });

  it('crashes on a fatal client error', () => {
    expect(batchErrorVerdict(clientError(true), isClientError)).toBe('crash');
  });

  it("backs off like kafkajs' retrier: 200 ms doubling to 30 s, ±20 %", () => {
    expect(retryDelayMs(1, () => 0.5)).toBe(200);
    expect(retryDelayMs(2, () => 0.5)).toBe(400);
    expect(retryDelayMs(4, () => 0)).toBe(1280);
    expect(retryDelayMs(20, () => 1)).toBe(30_000);
    expect(retryDelayMs(20, () => 0)).toBe(24_000);
  });
});

describe('transaction markers at a partition end (MarkerTracker)', () => {
  const t = 'ns.activity.events';

  it('a gap after the last record is due once that record is processed', () => {
    const m = new MarkerTracker();
    m.record(t, 0, 7);
    m.record(t, 0, 8);
    const b = m.batchStarted(t, 0);
    expect(m.endOfPartition(t, 0, 10)).toBeNull(); // the batch is still running
    expect(m.batchEnded(b, 8n)).toEqual({ topic: t, partition: 0, end: 10n, after: 8n });
    // Acted on once.
    expect(m.batchEnded(m.batchStarted(t, 0), 8n)).toBeNull();
  });

  it('an end right after the last record is no gap', () => {
    const m = new MarkerTracker();
    m.record(t, 1, 4);
    expect(m.batchEnded(m.batchStarted(t, 1), 4n)).toBeNull();
    expect(m.endOfPartition(t, 1, 5)).toBeNull();
  });

  it('waits while records read are not processed, and a new record cancels the end', () => {
    const m = new MarkerTracker();
    m.record(t, 0, 3);
    m.record(t, 0, 4);
    expect(m.endOfPartition(t, 0, 6)).toBeNull();
    const b = m.batchStarted(t, 0);
    expect(m.batchEnded(b, 3n)).toBeNull(); // 4 still waits in the client's cache
    m.record(t, 0, 6);
    expect(m.batchEnded(m.batchStarted(t, 0), 6n)).toBeNull();
  });

  it('a batch that failed or resolved nothing moves nothing', () => {
    const m = new MarkerTracker();
    m.record(t, 0, 3);
    m.endOfPartition(t, 0, 5);
    expect(m.batchEnded(m.batchStarted(t, 0), null)).toBeNull();
    // The client seeks back and reads the record again, then the end again.
    m.record(t, 0, 3);
    expect(m.endOfPartition(t, 0, 5)).toBeNull();
    expect(m.batchEnded(m.batchStarted(t, 0), 3n)).toEqual({ topic: t, partition: 0, end: 5n, after: 3n });
  });

  it('with nothing read since the assignment, the gap starts where the group committed (after: null)', () => {
    const m = new MarkerTracker();
    expect(m.endOfPartition(t, 2, 12)).toEqual({ topic: t, partition: 2, end: 12n, after: null });
  });

  it('a rebalance forgets what was read, and batches of the old assignment change nothing', () => {
    const m = new MarkerTracker();
    m.record(t, 0, 3);
    const old = m.batchStarted(t, 0);
    m.rebalanced();
    m.record(t, 0, 9);
    expect(m.endOfPartition(t, 0, 11)).toBeNull();
    expect(m.batchEnded(old, 9n)).toBeNull();
    expect(m.batchEnded(m.batchStarted(t, 0), 9n)).toEqual({ topic: t, partition: 0, end: 11n, after: 9n });
  });
});

describe('a rewind queued before a disconnect', () => {
  class KafkaJSError extends Error {
    constructor(
      message: string,
      readonly code: number,
    ) {
      super(message);
    }
  }
  const api = { isKafkaJSError: (e: unknown) => e instanceof KafkaJSError, ErrorCodes: { ERR__STATE: -172 } };

  it('is ignored only while a consumer disconnects, and only as the client state error', () => {
    const stale = new KafkaJSError('Assignment can only be called while connected.', -172);
    expect(isStaleSeekAfterDisconnect(stale, api, true)).toBe(true);
    expect(
      isStaleSeekAfterDisconnect(new KafkaJSError('Seek can only be called while connected.', -172), api, true),
    ).toBe(true);
    expect(isStaleSeekAfterDisconnect(stale, api, false)).toBe(false);
    expect(
      isStaleSeekAfterDisconnect(new KafkaJSError('Assignment can only be called while connected.', -1), api, true),
    ).toBe(false);
    expect(isStaleSeekAfterDisconnect(new KafkaJSError('Broker transport failure', -172), api, true)).toBe(false);
    expect(isStaleSeekAfterDisconnect(new Error('Assignment can only be called while connected.'), api, true)).toBe(
      false,
    );
    expect(isStaleSeekAfterDisconnect(undefined, api, true)).toBe(false);
  });
});
