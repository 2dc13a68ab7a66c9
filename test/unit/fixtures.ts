import { defaultRules } from '../../shared/config/rules.js';
import type { InputRecord } from '../../shared/kernel/types.js';
import type { ActivityEvent } from '../../shared/contracts/activity-event.js';

export const rules = defaultRules();

/** A complete activity event with every optional field null. */
export function activity(
  partial: Partial<ActivityEvent> & Pick<ActivityEvent, 'eventId' | 'userId' | 'type'>,
): ActivityEvent {
  return {
    occurredAt: Date.UTC(2026, 0, 10, 4, 0, 0),
    source: null,
    referrerId: null,
    amountFen: null,
    itemId: null,
    category: null,
    plan: null,
    periodEnd: null,
    refundOf: null,
    seconds: null,
    points: null,
    rewardId: null,
    redeemOf: null,
    ...partial,
  };
}

export function inputRecord(
  offset: number,
  value: unknown,
  key: string | null,
  opts: { partition?: number; timestamp?: number; topic?: string } = {},
): InputRecord {
  return {
    topic: opts.topic ?? 'test.activity.events',
    partition: opts.partition ?? 0,
    offset: String(offset),
    timestamp: opts.timestamp ?? Date.UTC(2026, 0, 10, 4, 0, 0),
    key: key === null ? null : Buffer.from(key),
    value:
      typeof value === 'string' || Buffer.isBuffer(value)
        ? Buffer.from(value as string)
        : Buffer.from(JSON.stringify(value)),
  };
}
