/**
 * `dlq list` and `dlq reprocess`: inspect the dead-letter topic, and send refused records back
 * to their source topic after a fix. Exactly once: each re-sent record and a marker naming its
 * dead letter are written in one Kafka transaction (consumers read committed), and dead letters
 * with a marker are never sent again, whatever crashed and whoever runs the command again.
 */
import type { AvroDeadLetterReprocessed } from '../../../shared/contracts/avro.generated.js';
import { physicalTopic } from '../../../shared/contracts/topics.js';
import { readTopicRecords, type TopicRecord } from './read.js';
import type { ReplayContext } from './shared.js';

export interface DeadLetterView {
  id: string;
  worker: string;
  reason: string;
  message: string;
  sourceTopic: string;
  sourcePartition: number;
  sourceOffset: string;
  sourceTimestamp: number;
  eventId: string | null;
  userId: string | null;
  originalKey: Buffer | null;
  originalValue: Buffer | null;
  originalSize: number;
}

export interface DlqFilter {
  reason?: string;
  worker?: string;
  /** Only dead letters whose original record is at or after this time (epoch ms). */
  since?: number;
}

/** Pure: the dead letters a filter selects, first copy per id. */
export function selectDeadLetters(all: readonly DeadLetterView[], f: DlqFilter): DeadLetterView[] {
  const seen = new Set<string>();
  return all.filter((d) => {
    if (seen.has(d.id)) return false;
    seen.add(d.id);
    return (
      (f.reason === undefined || d.reason === f.reason) &&
      (f.worker === undefined || d.worker === f.worker) &&
      (f.since === undefined || d.sourceTimestamp >= f.since)
    );
  });
}

export interface DlqListReport {
  total: number;
  selected: number;
  byReason: Record<string, number>;
  byWorker: Record<string, number>;
  reprocessed: number;
  entries: Array<Omit<DeadLetterView, 'originalKey' | 'originalValue'> & { reprocessed: boolean }>;
}

async function readDeadLetters(rc: ReplayContext): Promise<DeadLetterView[]> {
  return (await readTopicRecords(rc, physicalTopic(rc.liveNamespace, 'activity.dlq'))).map(
    (r: TopicRecord) => r.value as DeadLetterView,
  );
}

async function reprocessedIds(rc: ReplayContext): Promise<Set<string>> {
  return new Set(
    (await readTopicRecords(rc, physicalTopic(rc.liveNamespace, 'activity.dlq-reprocessed'))).map(
      (r) => (r.value as { id: string }).id,
    ),
  );
}

export async function dlqList(rc: ReplayContext, f: DlqFilter, max = 50): Promise<DlqListReport> {
  const all = await readDeadLetters(rc);
  const done = await reprocessedIds(rc);
  const selected = selectDeadLetters(all, f);
  const count = (key: (d: DeadLetterView) => string) =>
    selected.reduce<Record<string, number>>((m, d) => ({ ...m, [key(d)]: (m[key(d)] ?? 0) + 1 }), {});
  return {
    total: new Set(all.map((d) => d.id)).size,
    selected: selected.length,
    byReason: count((d) => d.reason),
    byWorker: count((d) => d.worker),
    reprocessed: selected.filter((d) => done.has(d.id)).length,
    entries: selected
      .slice(0, max)
      .map(({ originalKey: _k, originalValue: _v, ...rest }) => ({ ...rest, reprocessed: done.has(rest.id) })),
  };
}

export interface ReprocessReport {
  selected: number;
  sent: number;
  alreadyReprocessed: number;
  /** Not sent, with why: the original was cut (larger than the dead letter keeps), or its topic is not this namespace's. */
  skipped: Record<string, number>;
  dryRun: boolean;
}

const reprocessHeader = 'memberflow-reprocess-of';

export async function dlqReprocess(
  rc: ReplayContext,
  f: DlqFilter & { reason: string },
  o: { dryRun?: boolean; chunk?: number } = {},
): Promise<ReprocessReport> {
  const selected = selectDeadLetters(await readDeadLetters(rc), f);
  // Joining with the transactional id fences any earlier run (its open transaction is aborted),
  // so the markers read after it are final: nothing committed later can repeat them.
  const producer = rc.clients.kafka.producer({
    transactionalId: `${rc.liveNamespace}.dlq-reprocess`,
    idempotent: true,
    maxInFlightRequests: 1,
  });
  if (!o.dryRun) await producer.connect();
  const done = await reprocessedIds(rc);
  const report: ReprocessReport = {
    selected: selected.length,
    sent: 0,
    alreadyReprocessed: 0,
    skipped: {},
    dryRun: Boolean(o.dryRun),
  };
  const todo: DeadLetterView[] = [];
  for (const d of selected) {
    if (done.has(d.id)) report.alreadyReprocessed++;
    else if (d.originalValue === null || d.originalValue.length < d.originalSize)
      report.skipped.original_cut = (report.skipped.original_cut ?? 0) + 1;
    else if (!d.sourceTopic.startsWith(`${rc.liveNamespace}.`))
      report.skipped.other_namespace = (report.skipped.other_namespace ?? 0) + 1;
    else todo.push(d);
  }
  if (o.dryRun) return report;
  const markers = physicalTopic(rc.liveNamespace, 'activity.dlq-reprocessed');
  try {
    if (todo.length > 0) await rc.clients.codec.registerAll(['activity.dlq-reprocessed']);
    const at = Date.now();
    for (let i = 0; i < todo.length; i += o.chunk ?? 500) {
      const chunk = todo.slice(i, i + (o.chunk ?? 500));
      const txn = await producer.transaction();
      try {
        const bySource = new Map<string, DeadLetterView[]>();
        for (const d of chunk) bySource.set(d.sourceTopic, [...(bySource.get(d.sourceTopic) ?? []), d]);
        const marks = await Promise.all(
          chunk.map(async (d) => ({
            key: d.id,
            value: await rc.clients.codec.encode('activity.dlq-reprocessed', {
              id: d.id,
              reason: d.reason,
              sourceTopic: d.sourceTopic,
              reprocessedAt: at,
            } satisfies AvroDeadLetterReprocessed),
          })),
        );
        await txn.sendBatch({
          acks: -1,
          topicMessages: [
            ...[...bySource].map(([topic, ds]) => ({
              topic,
              messages: ds.map((d) => ({
                key: d.originalKey,
                value: d.originalValue,
                headers: { [reprocessHeader]: d.id },
              })),
            })),
            { topic: markers, messages: marks },
          ],
        });
        await txn.commit();
        report.sent += chunk.length;
      } catch (err) {
        await txn.abort().catch(() => undefined);
        throw err;
      }
    }
  } finally {
    await producer.disconnect();
  }
  return report;
}
