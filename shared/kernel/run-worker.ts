import type { Consumer, Kafka } from 'kafkajs';
import type { Rules } from '../config/rules.js';
import { OutputPublisher, createProducer } from '../kafka/client.js';
import { consumerGroup, physicalTopic } from '../kafka/topics.js';
import type { Logger } from '../log.js';
import type { Redis } from 'ioredis';
import { MemberStore } from '../redis/member-store.js';
import type { AvroCodec } from '../registry/codec.js';
import { BatchProcessor, type BatchReport } from './batch-processor.js';
import { failpointFromSpec } from './failpoints.js';
import { tickHeader, tickTimeFromHeader } from './ticks.js';
import type { StepLimits } from './member-record.js';
import { nextOffset } from './offsets.js';
import type { InputDecoder, InputRecord, WorkerDefinition } from './types.js';

export interface WorkerRuntimeOptions<S, E, V = unknown> {
  worker: WorkerDefinition<S, E, V>;
  decoder: InputDecoder<E>;
  kafka: Kafka;
  redis: Redis;
  codec: AvroCodec;
  namespace: string;
  /**
   * Where the inputs are read from, when not the worker's own namespace: a backfill
   * reads the live topics and writes state and outputs into a fresh namespace.
   */
  inputNamespace?: string;
  rules: Rules;
  log: Logger;
  limits?: Partial<StepLimits>;
  /** Partitions processed in parallel by this process. */
  concurrency?: number;
  fromBeginning?: boolean;
  sessionTimeoutMs?: number;
  maxBytesPerPartition?: number;
  onBatch?: (report: BatchReport, partition: number) => void;
}

export interface RunningWorker {
  stop(): Promise<void>;
  /** Settles if the consumer dies for good (kafkajs gave up restarting it): the process should exit non-zero. */
  failed: Promise<Error>;
  totals: WorkerTotals;
  consumer: Consumer;
}

export interface WorkerTotals {
  records: number;
  applied: number;
  rejected: number;
  duplicate: number;
  redelivered: number;
  undecodable: number;
  outputs: number;
  rejections: Record<string, number>;
  /** Wall-clock span from the start of the first batch to the end of the last one (ms), for throughput. */
  firstBatchStartedAt: number | null;
  lastBatchEndedAt: number | null;
}

export function defaultLimits(rules: Rules): StepLimits {
  return { recentIds: rules.behavior.recentEventIdsPerMember, outboxEntries: 50_000 };
}

/**
 * Runs a worker: one consumer group, batches per partition with heartbeats,
 * the batch processor in the middle, offsets committed last.
 */
export async function runWorker<S, E, V = unknown>(opts: WorkerRuntimeOptions<S, E, V>): Promise<RunningWorker> {
  const { worker, kafka, namespace, log } = opts;
  const wlog = log.child({ worker: worker.name, namespace });
  const producer = createProducer(kafka);
  await producer.connect();
  const store = new MemberStore<S>(opts.redis, namespace, worker.name);
  const publisher = new OutputPublisher(producer, opts.codec, namespace);
  const limits = { ...defaultLimits(opts.rules), ...opts.limits };
  const failpoint = failpointFromSpec(process.env.MEMBERFLOW_FAILPOINT);
  const loadView = worker.view?.({ redis: opts.redis, namespace, rules: opts.rules });
  const processor = new BatchProcessor(worker, opts.decoder, store, publisher, () => opts.rules, limits, wlog, failpoint, worker.forwardTicksTo, loadView);
  const consumer = kafka.consumer({
    groupId: consumerGroup(namespace, worker.name),
    allowAutoTopicCreation: false,
    sessionTimeout: opts.sessionTimeoutMs ?? 30_000,
    heartbeatInterval: Math.min(3_000, Math.floor((opts.sessionTimeoutMs ?? 30_000) / 3)),
    maxBytesPerPartition: opts.maxBytesPerPartition ?? 1_048_576,
  });
  const totals: WorkerTotals = { records: 0, applied: 0, rejected: 0, duplicate: 0, redelivered: 0, undecodable: 0, outputs: 0, rejections: {}, firstBatchStartedAt: null, lastBatchEndedAt: null };
  await consumer.connect();
  const failed = new Promise<Error>((resolve) => {
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (payload.restart) {
        wlog.warn({ err: payload.error }, 'consumer crashed; kafkajs restarts it');
        return;
      }
      wlog.fatal({ err: payload.error }, 'consumer stopped for good');
      resolve(payload.error);
    });
  });
  for (const topic of worker.inputs) {
    await consumer.subscribe({ topic: physicalTopic(opts.inputNamespace ?? namespace, topic), fromBeginning: opts.fromBeginning ?? true });
  }
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: opts.concurrency ?? 3,
    eachBatch: async ({ batch, heartbeat, isRunning, isStale, resolveOffset }) => {
      if (batch.messages.length === 0) return;
      const records: InputRecord[] = batch.messages.map((m) => {
        const record: InputRecord = {
          topic: batch.topic,
          partition: batch.partition,
          offset: m.offset,
          timestamp: Number(m.timestamp),
          key: m.key ?? null,
          value: m.value ?? null,
        };
        const tick = tickTimeFromHeader(m.headers?.[tickHeader] as Buffer | string | undefined);
        if (tick !== undefined) record.tick = tick;
        return record;
      });
      const plog = wlog.child({ partition: batch.partition });
      totals.firstBatchStartedAt ??= Date.now();
      const report = await processor.process(records, { heartbeat, isActive: () => isRunning() && !isStale() });
      if (report.aborted) {
        plog.info({ firstOffset: batch.firstOffset() }, 'batch abandoned: partition no longer ours or stopping');
        return;
      }
      const last = batch.lastOffset();
      resolveOffset(last);
      await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: nextOffset(last) }]);
      await heartbeat();
      accumulate(totals, report);
      totals.lastBatchEndedAt = Date.now();
      plog.debug({ records: report.records, outputs: report.outputs, lastOffset: last }, 'batch committed');
      opts.onBatch?.(report, batch.partition);
    },
  });
  wlog.info({ inputs: worker.inputs, group: consumerGroup(namespace, worker.name) }, 'worker running');
  return {
    totals,
    consumer,
    failed,
    async stop() {
      await consumer.disconnect();
      await producer.disconnect();
      wlog.info({ ...totals }, 'worker stopped');
    },
  };
}

function accumulate(totals: WorkerTotals, r: BatchReport): void {
  totals.records += r.records;
  totals.outputs += r.outputs;
  for (const k of ['applied', 'rejected', 'duplicate', 'redelivered', 'undecodable'] as const) totals[k] += r.outcomes[k];
  for (const [reason, n] of Object.entries(r.rejections)) totals.rejections[reason] = (totals.rejections[reason] ?? 0) + n;
}
