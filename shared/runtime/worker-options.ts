/** What `runWorker` is given, what it returns, and the totals it keeps. */
import type { Kafka } from 'kafkajs';
import type { Rules } from '../config/rules.js';
import type { Delivery } from '../kafka/client.js';
import type { StepLimits } from '../kernel/member-record.js';
import type { InputDecoder } from '../kernel/types.js';
import type { Logger } from '../log.js';
import type { RedisClient } from '../redis/client.js';
import type { PointerFence } from '../redis/member-store.js';
import type { AvroCodec } from '../registry/codec.js';
import type { BatchReport } from './batch-processor.js';
import type { WorkerObserver } from './observer.js';
import type { WorkerDefinition } from './worker-definition.js';

export interface WorkerRuntimeOptions<S, E, V = unknown> {
  worker: WorkerDefinition<S, E, V>;
  decoder: InputDecoder<E>;
  kafka: Kafka;
  redis: RedisClient;
  codec: AvroCodec;
  /** Where outputs go, and (unless a live pointer says otherwise) where state and the consumer group live. */
  namespace: string;
  /**
   * Where the inputs are read from, when not the worker's own namespace: a backfill
   * reads the live topics and writes state and outputs into a fresh namespace.
   */
  inputNamespace?: string;
  /**
   * Run as a live worker of `namespace`: state namespace, group and rules come from the
   * worker's live pointer (live-pointer.ts), and when a promote moves the pointer this
   * process stops the old generation and continues on the new one.
   */
  followPointer?: boolean;
  /** Without `followPointer`: keep state and the consumer group here instead of in `namespace` (a rebuild after a promote). */
  stateNamespace?: string;
  /** Without `followPointer`: refuse state writes once this pointer epoch is over (see live-pointer.ts). */
  fence?: PointerFence;
  /**
   * Read each input partition only up to this offset (exclusive), keyed `<physical topic>#<partition>`:
   * a replay with a fixed end. Partitions not listed have no end.
   */
  stopAt?: ReadonlyMap<string, string>;
  /**
   * Outputs of inputs below these offsets (keyed like `stopAt`) reached Kafka before: a rebuild
   * applies those inputs to state without publishing their outputs again (consumers' duplicate
   * windows are bounded; a whole topic re-published would be applied twice downstream).
   */
  publishFrom?: ReadonlyMap<string, string>;
  rules: Rules;
  log: Logger;
  limits?: Partial<StepLimits>;
  /** Partitions processed in parallel by this process. */
  concurrency?: number;
  fromBeginning?: boolean;
  sessionTimeoutMs?: number;
  maxBytesPerPartition?: number;
  /** See KAFKA_FETCH_MIN_BYTES and KAFKA_FETCH_MAX_WAIT_MS (config/env.ts); unset: the client's defaults. */
  fetchMinBytes?: number;
  fetchMaxWaitMs?: number;
  /**
   * Each batch's outputs and offsets in one Kafka transaction (kafka/transactions.ts), so a
   * `read_committed` reader sees every output once; `false`: an idempotent producer and a plain
   * offset commit (after a crash the outbox is published again: duplicates downstream).
   * Default: what the `Kafka` was created with (MEMBERFLOW_TRANSACTIONS, shared/kafka/client.ts).
   */
  transactions?: Delivery;
  /** The key ticks on activity.events must be signed with (tick-signature.ts; MEMBERFLOW_TICK_KEY); none: every tick there is refused. */
  tickKey?: string;
  /** How far a signed tick on a LogAppendTime topic may run ahead of the broker's append time (MEMBERFLOW_TICK_MAX_AHEAD_MS; default 5 min). */
  tickMaxAheadMs?: number;
  /** Failpoint spec (failpoints.ts; MEMBERFLOW_FAILPOINT): tests only. */
  failpoint?: string;
  /** Told of group joins, consumer failures and committed batches (metrics and health: shared/observability). */
  observer?: WorkerObserver;
  /** After each committed batch: its report, where it was, and the partition's next position. */
  onBatch?: (report: BatchReport, partition: number, topic: string, nextPosition: string) => void;
}

export interface RunningWorker {
  stop(): Promise<void>;
  /** Settles if the consumer dies for good (kafkajs gave up restarting it): the process should exit non-zero. */
  failed: Promise<Error>;
  /** Settles once every partition listed in `stopAt` has been processed up to its end (never without `stopAt`). */
  reachedEnd: Promise<void>;
  totals: WorkerTotals;
  /** The consumer group the current generation uses. */
  group(): string;
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
  /** Live-pointer generations this process ran (1 unless a promote happened while it ran). */
  generations: number;
}

/** Adds a committed batch's counts to the process's totals. */
export function accumulate(totals: WorkerTotals, r: BatchReport): void {
  totals.records += r.records;
  totals.outputs += r.outputs;
  for (const k of ['applied', 'rejected', 'duplicate', 'redelivered', 'undecodable'] as const)
    totals[k] += r.outcomes[k];
  for (const [reason, n] of Object.entries(r.rejections))
    totals.rejections[reason] = (totals.rejections[reason] ?? 0) + n;
}
