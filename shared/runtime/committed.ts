/**
 * What a consumer group's committed offsets settle: outboxes of committed batches are dropped, a resumed
 * replay's partitions already at their end are done, and a fresh group is told from a resumed one.
 */
import type { Kafka } from 'kafkajs';
import { createWorkerAdmin } from '../kafka/client.js';
import { compareOffsets, topicPartitionId } from '../kernel/offsets.js';
import type { Logger } from '../log.js';
import type { MemberStore } from '../redis/member-store.js';
import type { BatchReport } from './batch-processor.js';

/**
 * Once a batch's offsets are committed its outputs are never re-published: drop them from the
 * members' outboxes, with the batch's tick journals. A failure here loses nothing (the next
 * batch of the partition, or the next start, finds what was left through the unsettled journal): log it and go on.
 */
export async function dropCommitted<S>(
  store: MemberStore<S>,
  report: BatchReport,
  topic: string,
  partition: number,
  position: string,
  log: Logger,
): Promise<void> {
  const tp = topicPartitionId(topic, partition);
  const settle = report.settle.get(tp);
  if (!settle) return;
  await store
    .dropCommitted({ tp, position, ...settle })
    .catch((err: unknown) => log.warn({ err }, 'could not drop committed outputs; the next batch retries'));
}

/** Drops outbox entries below the group's committed offsets (any partition: committed means published). */
export async function sweepCommittedOutboxes<S>(
  kafka: Kafka,
  store: MemberStore<S>,
  group: string,
  topics: readonly string[],
): Promise<void> {
  const positions = new Map(
    [...(await committedOffsets(kafka, group, topics))].filter(([, offset]) => compareOffsets(offset, '0') > 0),
  );
  await store.sweepCommitted(positions);
}

/** Whether a consumer group ever committed an offset on any of these topics. */
export async function groupHasCommitted(kafka: Kafka, group: string, topics: readonly string[]): Promise<boolean> {
  return (await committedOffsets(kafka, group, topics)).size > 0;
}

/** A group's committed offsets on those of these topics that exist, keyed topic:partition (partitions never committed left out). */
export async function committedOffsets(
  kafka: Kafka,
  group: string,
  topics: readonly string[],
): Promise<Map<string, string>> {
  const admin = createWorkerAdmin(kafka);
  await admin.connect();
  const found = new Map<string, string>();
  try {
    const existing = new Set(await admin.listTopics());
    const present = topics.filter((t) => existing.has(t));
    if (present.length === 0) return found;
    for (const t of await admin.fetchOffsets({ groupId: group, topics: present })) {
      for (const p of t.partitions)
        if (compareOffsets(p.offset, '0') >= 0) found.set(topicPartitionId(t.topic, p.partition), p.offset);
    }
    return found;
  } finally {
    await admin.disconnect();
  }
}

/** Partitions whose committed position is already at their end (a resumed replay) are done without a fetch. */
export async function checkCommittedEnds(
  kafka: Kafka,
  group: string,
  stopAt: ReadonlyMap<string, string>,
  atEnd: (topic: string, partition: number) => void,
): Promise<void> {
  const admin = createWorkerAdmin(kafka);
  await admin.connect();
  try {
    const topics = [...new Set([...stopAt.keys()].map((k) => k.slice(0, k.lastIndexOf('#'))))];
    for (const t of await admin.fetchOffsets({ groupId: group, topics })) {
      for (const p of t.partitions) {
        const end = stopAt.get(`${t.topic}#${p.partition}`);
        if (end !== undefined && compareOffsets(p.offset, '0') >= 0 && compareOffsets(p.offset, end) >= 0)
          atEnd(t.topic, p.partition);
      }
    }
  } finally {
    await admin.disconnect();
  }
}
