import type { InputRecord, OutputEvent, Rejection } from './types.js';

/** Deterministic dead-letter id: the same refused record always gets the same id. */
export function deadLetterId(worker: string, record: Pick<InputRecord, 'topic' | 'partition' | 'offset'>): string {
  return `dlq:${worker}:${record.topic}:${record.partition}:${record.offset}`;
}

/**
 * Original bytes kept in a dead letter, at most. The broker limits record size
 * (1 MiB by default) after compression on the producer side, so an input can be
 * larger than any record we may write: keep a prefix and say so.
 */
export const deadLetterMaxValueBytes = 256 * 1024;

/** Longest record key a dead letter is keyed by; a longer one (hostile, or broken) gives way to an empty key. */
export const deadLetterMaxKeyBytes = 1024;

function deadLetterKey(key: Buffer | null): string {
  return key && key.length <= deadLetterMaxKeyBytes ? key.toString('utf8') : '';
}

/** Wraps a refused input in an `activity.dlq` event, keeping its original bytes (up to the cap). */
export function deadLetter(
  worker: string,
  record: InputRecord,
  rejection: Rejection,
  ids: { eventId: string | null; memberId: string | null },
): OutputEvent {
  const id = deadLetterId(worker, record);
  const value = {
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
    originalKey: record.key && record.key.length > 1024 ? record.key.subarray(0, 1024) : record.key,
    originalValue:
      record.value && record.value.length > deadLetterMaxValueBytes
        ? record.value.subarray(0, deadLetterMaxValueBytes)
        : record.value,
    originalSize: record.value?.length ?? 0,
  };
  return { topic: 'activity.dlq', key: ids.memberId ?? deadLetterKey(record.key), id, value };
}
