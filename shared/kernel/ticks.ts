import type { InputRecord, OutputEvent } from './types.js';
import type { LogicalTopic } from '../contracts/topics.js';

/**
 * Ticks carry time through the log. A ticker writes one tick record to every
 * partition of `activity.events` (header `memberflow-tick: <epoch ms>`); each
 * worker applies due time-driven work (expiry, grace ends) for the members of
 * that partition when it reaches the tick, and forwards the tick to the same
 * partition of its output topic. Replaying the log therefore replays time.
 */
export const tickHeader = 'memberflow-tick';
export const tickKey = '__tick__';

export function tickTimeFromHeader(value: Buffer | string | undefined | null): number | undefined {
  if (value === undefined || value === null) return undefined;
  const n = Number(value.toString());
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

export function tickId(record: Pick<InputRecord, 'topic' | 'partition' | 'offset'>): string {
  return `tick:${record.topic}:${record.partition}:${record.offset}`;
}

/** The tick copied to the same partition of the next topic. */
export function forwardedTick(record: InputRecord, time: number, topic: LogicalTopic): OutputEvent {
  const id = `fwd:${tickId(record)}`;
  return {
    topic,
    key: tickKey,
    id,
    value: { tick: time, from: tickId(record) },
    tick: { partition: record.partition, time },
  };
}
