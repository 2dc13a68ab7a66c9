import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pointsLogic } from '../../services/points-accrual/decide.js';
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
    if (o.kind === 'purchase') (e = purchase(id, o.amount, t)), purchases.push(id);
    else if (o.kind === 'refund') e = refund(id, purchases[i % Math.max(1, purchases.length)] ?? 'none', Math.ceil(o.amount / 2), t);
    else if (o.kind === 'subscription') e = ev(id, 'subscription', t, { plan: 'annual', amountFen: 19_900, periodEnd: t + 365 * dayMs });
    else e = ev(id, 'comment', t, { itemId: 'c' });
    return { record: inputRecord(i, e, e.userId), decoded: { kind: 'event', memberId: e.userId, eventId: e.eventId, event: e } };
  });
  return referenceRun(pointsLogic, log, rules, limits).outputs.filter((o) => o.topic === 'points.ledger').map((o) => o.value as unknown as LedgerEntryValue);
}

function tierLog(entries: LedgerEntryValue[], ops: Op[]): Item<LedgerEntryValue>[] {
  const log: Item<LedgerEntryValue>[] = [];
  entries.forEach((e, i) => {
    const copies = ops[i % Math.max(1, ops.length)]?.duplicate ? 2 : 1; // an upstream re-publish: same id, new offset
    for (let c = 0; c < copies; c++) log.push({ record: inputRecord(log.length, e, e.userId), decoded: { kind: 'event', memberId: e.userId, eventId: e.eventId, event: e } });
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
        expect(dup.outputs.map((o) => [o.id, o.value])).toEqual(clean.outputs.map((o) => [o.id, o.value]));

        let rec: MemberRecord<unknown> = emptyRecord();
        const published: OutputEvent[] = [];
        const crashAt = cut % (withDuplicates.length + 1);
        for (const slice of [withDuplicates.slice(0, crashAt), withDuplicates]) {
          for (const { record, decoded } of slice) {
            if (decoded.kind !== 'event') continue;
            const step = stepMember(tierEvaluationWorker as never, rec as never, { record, ...decoded }, { rules, record: { timestamp: 0, sizeBytes: 0, topic: 'test', partition: 0, offset: '0' } }, limits);
            rec = step.record as MemberRecord<unknown>;
            published.push(...step.outputs);
          }
        }
        const firstById = new Map<string, OutputEvent>();
        for (const o of published) if (!firstById.has(o.id)) firstById.set(o.id, o);
        expect([...firstById.values()].map((o) => [o.id, o.value])).toEqual(clean.outputs.map((o) => [o.id, o.value]));
        expect(rec.state).toEqual([...clean.states.values()][0] ?? null);
      }),
      { numRuns: 150 },
    );
  });
});
