import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pointsLogic } from '../../services/points-accrual/decide.js';
import { sequenceOf, type MemberTier, type TierChange } from '../../services/tier-evaluation/events.js';
import { tierEvaluationWorker, type LedgerEntryValue } from '../../services/tier-evaluation/worker.js';
import type { BehaviorEventValue } from '../../shared/contracts/behavior-event.js';
import { emptyRecord, stepMember, type MemberRecord } from '../../shared/kernel/member-record.js';
import { referenceRun } from '../../shared/kernel/reference-run.js';
import type { Decoded, InputRecord, OutputEvent } from '../../shared/kernel/types.js';
import { inputRecord } from './fixtures.js';
import { dayMs, ev, purchase, refund, rules, sh } from './points-helpers.js';

const limits = { recentIds: 256, outboxEntries: 10_000, maxStateBytes: 1_048_576 };
type Item<E> = { record: InputRecord; decoded: Decoded<E> };

const op = fc.record({
  kind: fc.constantFrom('purchase', 'purchase', 'refund', 'subscription', 'comment'),
  gap: fc.integer({ min: 0, max: 90 * dayMs }),
  amount: fc.integer({ min: 100, max: 80_000 }),
  duplicate: fc.boolean(),
});
type Op = typeof op extends fc.Arbitrary<infer T> ? T : never;

/** Behavior events for one member → the points ledger (pure) → the tier worker's input log. */
function ledgerFor(ops: Op[]): LedgerEntryValue[] {
  let t = sh(2026, 1, 1, 9);
  const purchases: string[] = [];
  const log: Item<BehaviorEventValue>[] = ops.map((o, i) => {
    t += o.gap;
    const id = `e${i}`;
    let e: BehaviorEventValue;
    if (o.kind === 'purchase') {
      e = purchase(id, o.amount, t);
      purchases.push(id);
    } else if (o.kind === 'refund')
      e = refund(id, purchases[i % Math.max(1, purchases.length)] ?? 'none', Math.ceil(o.amount / 2), t);
    else if (o.kind === 'subscription')
      e = ev(id, 'subscription', t, { plan: 'annual', amountFen: 19_900, periodEnd: t + 365 * dayMs });
    else e = ev(id, 'comment', t, { itemId: 'c' });
    return {
      record: inputRecord(i, e, e.userId),
      decoded: { kind: 'event', memberId: e.userId, eventId: e.eventId, event: e },
    };
  });
  return referenceRun(pointsLogic, log, rules, limits)
    .outputs.filter((o) => o.topic === 'points.ledger')
    .map((o) => o.value as unknown as LedgerEntryValue);
}

function tierLog(entries: LedgerEntryValue[], ops: Op[]): Item<LedgerEntryValue>[] {
  const log: Item<LedgerEntryValue>[] = [];
  entries.forEach((e, i) => {
    const copies = ops[i % Math.max(1, ops.length)]?.duplicate ? 2 : 1; // an upstream re-publish: same id, new offset
    for (let c = 0; c < copies; c++)
      log.push({
        record: inputRecord(log.length, e, e.userId),
        decoded: { kind: 'event', memberId: e.userId, eventId: e.eventId, event: e },
      });
  });
  return log;
}

describe('tier-evaluation through the kernel: exactly once', () => {
  it('property: re-published ledger entries and a crash with redelivery give the identical tier history', () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 30 }), fc.nat(), (ops, cut) => {
        const entries = ledgerFor(ops);
        const clean = referenceRun(tierEvaluationWorker, tierLog(entries, []), rules, limits);
        const withDuplicates = tierLog(entries, ops);
        const dup = referenceRun(tierEvaluationWorker, withDuplicates, rules, limits);
        // A re-published entry takes an offset, so the sequences differ; everything else is identical.
        const withoutSequence = (o: OutputEvent) => [o.id, { ...o.value, sequence: undefined }];
        expect(dup.outputs.map(withoutSequence)).toEqual(clean.outputs.map(withoutSequence));

        let rec: MemberRecord<unknown> = emptyRecord();
        const published: OutputEvent[] = [];
        const crashAt = cut % (withDuplicates.length + 1);
        for (const slice of [withDuplicates.slice(0, crashAt), withDuplicates]) {
          for (const { record, decoded } of slice) {
            if (decoded.kind !== 'event') continue;
            const step = stepMember(
              tierEvaluationWorker as never,
              rec as never,
              { record, ...decoded },
              { rules, record: { timestamp: 0, sizeBytes: 0, topic: 'test', partition: 0, offset: record.offset } },
              limits,
            );
            rec = step.record;
            published.push(...step.outputs);
          }
        }
        const firstById = new Map<string, OutputEvent>();
        for (const o of published) if (!firstById.has(o.id)) firstById.set(o.id, o);
        expect([...firstById.values()].map((o) => [o.id, o.value])).toEqual(dup.outputs.map((o) => [o.id, o.value]));
        expect(rec.state).toEqual([...clean.states.values()][0] ?? null);
      }),
      { numRuns: 150 },
    );
  });
});

describe('tier-evaluation: a per-member sequence in decision order', () => {
  it('sequenceOf: string order is the order of offsets, then of places', () => {
    const ordered = [
      sequenceOf('9', 0),
      sequenceOf('9', 1),
      sequenceOf('10', 0),
      sequenceOf('9223372036854775807', 199_999),
    ];
    expect([...ordered].sort()).toEqual(ordered);
    expect(sequenceOf('10', 2)).toBe('0000000000000000010-000002');
  });

  it('property: every tier change has a greater sequence than the last, and its table record carries the same', () => {
    const notAnEvent: Decoded<LedgerEntryValue> = {
      kind: 'rejected',
      rejection: { reason: 'tick', message: '' },
      eventId: null,
      memberId: null,
    };
    const seen = { changes: 0, onTicks: 0, severalOnOneRecord: 0 };
    fc.assert(
      fc.property(
        fc.array(op, { minLength: 1, maxLength: 30 }),
        fc.array(fc.integer({ min: 1, max: 400 }), { maxLength: 4 }),
        (ops, tickDays) => {
          const log = tierLog(ledgerFor(ops), []);
          // Ticks between and after the entries: window exits, grace and plan ends decided on a tick's offset.
          let t = Math.max(...log.map((i) => (i.decoded.kind === 'event' ? i.decoded.event.occurredAt : 0)));
          const withTicks: Item<LedgerEntryValue>[] = [...log];
          for (const days of tickDays) {
            t += days * dayMs;
            withTicks.push({
              record: { ...inputRecord(withTicks.length, { tick: t }, '__tick__'), tick: t },
              decoded: notAnEvent,
            });
          }
          const { outputs } = referenceRun(tierEvaluationWorker, withTicks, rules, limits);
          const changes = outputs
            .filter((o) => o.topic === 'member.tier-changes')
            .map((o) => o.value as unknown as TierChange);
          const records = outputs
            .filter((o) => o.topic === 'member.tiers')
            .map((o) => o.value as unknown as MemberTier);
          seen.changes += changes.length;
          seen.onTicks += changes.filter((c) => c.sourceEventId.startsWith('tick:')).length;
          changes.forEach((c, i) => {
            expect(c.sequence).toMatch(/^\d{19}-\d{6}$/);
            if (i > 0)
              expect(c.sequence > changes[i - 1]!.sequence, `${c.eventId} after ${changes[i - 1]!.eventId}`).toBe(true);
          });
          expect(records.map((r) => [r.changeEventId, r.sequence])).toEqual(
            changes.map((c) => [c.eventId, c.sequence]),
          );
          // Changes decided on one record are numbered 0, 1, … after its offset.
          const places = new Map<string, string[]>();
          for (const c of changes)
            places.set(c.sequence.slice(0, 19), [...(places.get(c.sequence.slice(0, 19)) ?? []), c.sequence.slice(20)]);
          for (const list of places.values()) {
            expect(list).toEqual(list.map((_, i) => String(i).padStart(6, '0')));
            if (list.length > 1) seen.severalOnOneRecord++;
          }
        },
      ),
      { numRuns: 150 },
    );
    // The runs did exercise it: changes decided on entries and on ticks.
    expect(seen.changes).toBeGreaterThan(150);
    expect(seen.onTicks).toBeGreaterThan(0);
    expect(seen.severalOnOneRecord).toBeGreaterThan(0);
  });
});
