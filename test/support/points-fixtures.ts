import { workers } from '../../services/index.js';
import type { Rules } from '../../shared/config/rules.js';
import type { BehaviorEventValue } from '../../shared/contracts/behavior-event.js';
import { referenceRun } from '../../shared/kernel/reference-run.js';
import { defaultLimits } from '../../shared/runtime/run-worker.js';
import type { Decoded, OutputEvent } from '../../shared/kernel/types.js';
import type { ReadRecord } from './harness.js';

/** Fixtures of the replay and promote tests: purchases upstream, points-accrual's reference over behavior.events. */
export const pointsDefinition = workers['points-accrual']!.definition;
const tickPlaceholder: Decoded<never> = {
  kind: 'rejected',
  rejection: { reason: 'tick', message: 'tick' },
  eventId: null,
  memberId: null,
};

/** Purchases of 40 members, `n` of them from `start` on, in event-time order. */
export function purchases(start: number, n: number): Record<string, unknown>[] {
  return Array.from({ length: n }, (_, i) => {
    const k = start + i;
    return {
      eventId: `rp-${k}`,
      userId: `m${k % 40}`,
      type: 'purchase',
      occurredAt: new Date(Date.UTC(2011, 0, 1) + k * 60_000).toISOString(),
      amountFen: 1000 + (k % 7) * 2500,
      itemId: `course-${k % 13}`,
      category: 'history',
    };
  });
}

/** behavior.events as read, as points-accrual's reference reads it. */
export function behaviorLog(records: readonly ReadRecord[]) {
  return records.map((record) => ({
    record,
    decoded:
      record.tick !== undefined
        ? (tickPlaceholder as Decoded<BehaviorEventValue>)
        : ({
            kind: 'event',
            memberId: (record.decoded as BehaviorEventValue).userId,
            eventId: (record.decoded as BehaviorEventValue).eventId,
            event: record.decoded as BehaviorEventValue,
          } as const),
  }));
}

/** The doubled-points rule change the replay tests promote. */
export function doubledPoints(rules: Rules): Rules {
  return {
    ...rules,
    version: `${rules.version}+double`,
    points: { ...rules.points, pointsPerYuan: rules.points.pointsPerYuan * 2 },
  };
}

/**
 * What points.ledger must hold after a promote: entries of inputs before the switch (per
 * partition, `switchedAt` from the promote report) under the old rules, from the switch on under
 * the new ones; one content per id.
 */
export function expectedLedger(
  all: readonly ReadRecord[],
  switchedAt: Record<string, string>,
  oldRules: Rules,
  newRules: Rules,
): Map<string, OutputEvent> {
  const switchAt = new Map(
    Object.entries(switchedAt).map(([k, v]) => [Number(k.slice(k.lastIndexOf('#') + 1)), BigInt(v)]),
  );
  const refOld = referenceRun(pointsDefinition, behaviorLog(all), oldRules, defaultLimits(oldRules));
  const refNew = referenceRun(pointsDefinition, behaviorLog(all), newRules, defaultLimits(newRules));
  const after = new Set(
    all
      .filter((r) => r.tick === undefined && BigInt(r.offset) >= switchAt.get(r.partition)!)
      .map((r) => (r.decoded as BehaviorEventValue).eventId),
  );
  const expected = new Map<string, OutputEvent>();
  for (const o of refOld.outputs)
    if (o.topic === 'points.ledger' && !after.has(String(o.value.sourceEventId))) expected.set(o.id, o);
  for (const o of refNew.outputs)
    if (o.topic === 'points.ledger' && after.has(String(o.value.sourceEventId))) expected.set(o.id, o);
  return expected;
}
