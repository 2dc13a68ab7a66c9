import type { InputRecord, OutputEvent, Rejection } from './types.js';

/** Deterministic dead-letter id: the same refused record always gets the same id. */
export function deadLetterId(worker: string, record: Pick<InputRecord, 'topic' | 'partition' | 'offset'>): string {
  return `dlq:${worker}:${record.topic}:${record.partition}:${record.offset}`;
}

/** Wraps a refused input in an `activity.dlq` event, keeping its original bytes. */
export function deadLetter(
  worker: string,
  record: InputRecord,
  rejection: Rejection,
  ids: { eventId: string | null; memberId: string | null },
): OutputEvent {
  const id = deadLetterId(worker, record);
  return {
    topic: 'activity.dlq',
    key: ids.memberId ?? record.key?.toString('utf8') ?? '',
    id,
    value: {
      id,
      worker,
      reason: rejection.reason,
      message: rejection.message,
      sourceTopic: record.topic,
      sourcePartition: record.partition,
      sourceOffset: record.offset,
      sourceTimestamp: record.timestamp,
      eventId: ids.eventId,
      userId: ids.memberId,
      originalKey: record.key,
      originalValue: record.value,
    },
  };
}
