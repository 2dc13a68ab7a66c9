/**
 * ConfluentWorkerConsumer: the worker runtime's consumer (WorkerConsumer) on the compatible consumer,
 * with kafkajs' CRASH, GROUP_JOIN and markers-only END_BATCH_PROCESS done here.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../../log.js';
import type { Assignment, WorkerConsumer, WorkerConsumerConfig, WorkerRunConfig } from '../worker-api.js';
import { batchErrorVerdict, retryDelayMs } from './batch-errors.js';
import { confluentConsumerConfig } from './config.js';
import type { ConfluentConsumer, ConfluentEachBatchPayload, ConfluentKafka, ConfluentKafkaJS } from './library.js';
import { MarkerTracker, type MarkerGap } from './markers.js';
import { disconnectingConsumers, installStaleSeekGuard, staleSeekGraceMs } from './stale-seek-guard.js';

type CrashListener = (error: Error, restart: boolean) => void;

/**
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
export class ConfluentWorkerConsumer implements WorkerConsumer {
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
