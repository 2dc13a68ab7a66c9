import type { Admin, Kafka } from 'kafkajs';
import type { Logger } from '../log.js';
import { compareOffsets } from '../kernel/offsets.js';
import { createTransactionalProducer, type OpenTransaction, type TransactionalProducer } from './client.js';
import { hasBrokerErrorType } from './transient.js';

/**
 * One transactional producer per input partition (kafkajs has no KIP-447, so a zombie is fenced
 * by the partition's transactional.id: whoever initialises it last owns it; the confluent client
 * sends the offsets with the group's metadata as well, see client.ts createTransactionalProducer). A batch's outputs
 * and its next offset go in one transaction; a `read_committed` reader sees them once or not at all.
 *
 * The first batch of a partition after this member joined its group (a takeover, or a restart)
 * gets a new producer: initialising it aborts, or waits out, the transaction the previous owner
 * left open and fences that owner's producer. Only then is the committed offset stable: kafkajs
 * fetched it for the consumer without `requireStable`, so it may predate the previous owner's
 * last commit. `begin` reads it again and tells the caller, which skips records below it (their
 * outputs are committed already; publishing them from the outbox again would duplicate them).
 */
export interface PartitionTransaction {
  /** Sends like a producer, inside the transaction. */
  sender: Pick<OpenTransaction, 'send' | 'sendBatch'>;
  /** Set on a partition's first batch since the group join: the group's committed offset, read after the fence. */
  committed: string | null;
}

/** The transactional.id of a group's input partition: stable across restarts, so the next owner fences the last. */
export function transactionalIdOf(group: string, topic: string, partition: number): string {
  return `${group}~${topic}~${partition}`;
}

interface Entry {
  producer: TransactionalProducer;
  joinedAt: number;
  txn: OpenTransaction | null;
}

export class PartitionTransactions {
  private readonly entries = new Map<string, Entry>();
  /** Bumped at every group join: a partition's producer older than it is made again before its next batch. */
  private joins = 0;
  private admin: Admin | undefined;

  constructor(
    private readonly kafka: Kafka,
    private readonly group: string,
    private readonly log: Logger,
    /** How long the broker keeps a transaction open before aborting it (an owner SIGKILLed mid-batch). */
    private readonly timeoutMs: number,
  ) {}

  /** The member joined its group (again): its partitions may have had other owners since. */
  joined(): void {
    this.joins++;
  }

  /** Begins the batch's transaction on the partition's producer. */
  async begin(topic: string, partition: number): Promise<PartitionTransaction> {
    const id = transactionalIdOf(this.group, topic, partition);
    const current = this.entries.get(id);
    if (current && current.joinedAt === this.joins) {
      try {
        current.txn = await current.producer.transaction();
      } catch (err) {
        await this.discard(id, current);
        throw err;
      }
      return { sender: current.txn, committed: null };
    }
    if (current) await this.discard(id, current);
    const producer = createTransactionalProducer(this.kafka, id, this.timeoutMs);
    const fresh: Entry = { producer, joinedAt: this.joins, txn: null };
    try {
      await producer.connect();
      // The first transaction initialises the id (InitProducerId): the previous owner is fenced and its open transaction ended.
      const txn = await producer.transaction();
      fresh.txn = txn;
      const committed = await this.committedOffset(topic, partition);
      this.entries.set(id, fresh);
      return { sender: txn, committed };
    } catch (err) {
      await this.discard(id, fresh);
      throw err;
    }
  }

  /** Commits the batch: its outputs and the partition's next offset, together. */
  async commit(topic: string, partition: number, nextOffset: string): Promise<void> {
    const id = transactionalIdOf(this.group, topic, partition);
    const entry = this.entries.get(id);
    if (!entry?.txn) throw new Error(`no transaction is open for ${topic}#${partition}`);
    try {
      await entry.txn.sendOffsets(this.group, [{ topic, partitions: [{ partition, offset: nextOffset }] }]);
      await entry.txn.commit();
      entry.txn = null;
    } catch (err) {
      // Fenced (another owner), timed out, or the cluster failed mid-commit: a new producer takes the partition on the next batch.
      await this.discard(id, entry);
      throw err;
    }
  }

  /**
   * Ends the batch's transaction without committing it. `keepProducer`: the batch was given up
   * cleanly and the producer takes the next one; else (a failure part-way) a new producer does.
   */
  async abort(topic: string, partition: number, { keepProducer }: { keepProducer: boolean }): Promise<void> {
    const id = transactionalIdOf(this.group, topic, partition);
    const entry = this.entries.get(id);
    if (!entry) return;
    if (keepProducer && entry.txn?.isActive()) {
      try {
        await entry.txn.abort();
        entry.txn = null;
        return;
      } catch {
        // Falls through: a producer whose abort failed cannot begin again.
      }
    }
    await this.discard(id, entry);
  }

  async close(): Promise<void> {
    for (const [id, entry] of [...this.entries]) await this.discard(id, entry);
    await this.admin?.disconnect().catch(() => undefined);
  }

  private async discard(id: string, entry: Entry): Promise<void> {
    this.entries.delete(id);
    // An abort that fails leaves kafkajs' producer unusable (ABORTING); it is dropped either way, and the broker
    // aborts what is left when the next owner initialises the id or the transaction times out.
    if (entry.txn?.isActive())
      await entry.txn
        .abort()
        .catch((err: unknown) => this.log.debug({ err, id }, 'transaction abort failed; the next owner ends it'));
    entry.txn = null;
    await entry.producer.disconnect().catch(() => undefined);
  }

  private async committedOffset(topic: string, partition: number): Promise<string | null> {
    if (!this.admin) {
      this.admin = this.kafka.admin();
      await this.admin.connect();
    }
    const topics = await this.admin.fetchOffsets({ groupId: this.group, topics: [topic] });
    const offset = topics[0]?.partitions.find((p) => p.partition === partition)?.offset;
    return offset === undefined || compareOffsets(offset, '0') < 0 ? null : offset;
  }
}

/** The broker refused the partition's producer: a newer owner initialised its transactional.id (or the transaction expired). */
const fencedTypes = new Set(['INVALID_PRODUCER_EPOCH', 'PRODUCER_FENCED', 'INVALID_PRODUCER_ID_MAPPING']);

export function isFencedProducerError(err: unknown): boolean {
  return hasBrokerErrorType(err, fencedTypes);
}

/**
 * This process lost the partition to a newer owner while it worked on a batch (a zombie), or its
 * transaction expired: the transaction was aborted and nothing of it is visible. Retriable, where
 * kafkajs' own error is not (it would stop the consumer for good): the consumer fetches again, and
 * the group's next rebalance takes the partition away, or the next batch fences the other side.
 */
export class PartitionFencedError extends Error {
  override name = 'PartitionFencedError';
  readonly retriable = true;
  constructor(
    readonly topic: string,
    readonly partition: number,
    cause: Error,
  ) {
    super(
      `another owner fenced this process's producer for ${topic}#${partition} (or its transaction expired): batch aborted`,
      { cause },
    );
  }
}
