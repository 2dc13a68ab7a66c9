import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pointsLogic } from '../../services/points-accrual/decide.js';
import type { PointsState } from '../../services/points-accrual/state.js';
import type { BehaviorEventValue } from '../../shared/contracts/behavior-event.js';
import { dueMembers, emptyRecord, stepMember, stepTick, type MemberRecord } from '../../shared/kernel/member-record.js';
import { referenceRun } from '../../shared/kernel/reference-run.js';
import { tickId } from '../../shared/kernel/ticks.js';
import type { Decoded, InputRecord, OutputEvent } from '../../shared/kernel/types.js';
import { inputRecord } from './fixtures.js';
import { cancel, dayMs, ev, purchase, redeem, refund, rules, sh } from './points-helpers.js';

const limits = { recentIds: 256, outboxEntries: 10_000, maxStateBytes: 1_048_576 };
type LogItem = { record: InputRecord; decoded: Decoded<BehaviorEventValue> };
const notAnEvent: Decoded<BehaviorEventValue> = {
  kind: 'rejected',
  rejection: { reason: 'tick', message: '' },
  eventId: null,
  memberId: null,
};

const op = fc.record({
  kind: fc.constantFrom('purchase', 'comment', 'refund', 'redeem', 'redeem_cancel', 'tick'),
  member: fc.constantFrom('m1', 'm2'),
  gap: fc.integer({ min: 0, max: 40 * dayMs }),
  amount: fc.integer({ min: 100, max: 50_000 }),
  points: fc.constantFrom(100, 200, 150),
  pick: fc.nat(),
  duplicate: fc.boolean(),
});

/** A log of behavior events and ticks on one partition; `duplicate` re-sends an event at a new offset (an upstream retry). */
type Op = typeof op extends fc.Arbitrary<infer T> ? T : never;

function buildLog(ops: Op[], withDuplicates: boolean): LogItem[] {
  let t = sh(2026, 1, 1, 9);
  const log: LogItem[] = [];
  const ids: Record<string, string[]> = { purchase: [], redeem: [] };
  const push = (e: BehaviorEventValue) =>
    log.push({
      record: inputRecord(log.length, e, e.userId),
      decoded: { kind: 'event', memberId: e.userId, eventId: e.eventId, event: e },
    });
  ops.forEach((o, i) => {
    t += o.gap;
    const id = `e${i}`;
    const pickOf = (xs: string[]) => xs[o.pick % Math.max(1, xs.length)] ?? 'unknown';
    let e: BehaviorEventValue;
    if (o.kind === 'tick') {
      log.push({ record: { ...inputRecord(log.length, { tick: t }, '__tick__'), tick: t }, decoded: notAnEvent });
      return;
    } else if (o.kind === 'purchase') e = purchase(id, o.amount, t);
    else if (o.kind === 'comment') e = ev(id, 'comment', t, { itemId: 'c' });
    else if (o.kind === 'refund') e = refund(id, pickOf(ids.purchase!), Math.ceil(o.amount / 3), t);
    else if (o.kind === 'redeem') e = redeem(id, o.points, t);
    else e = cancel(id, pickOf(ids.redeem!), t);
    e = { ...e, userId: o.member };
    if (o.kind === 'purchase' || o.kind === 'redeem') ids[o.kind]!.push(id);
    push(e);
    if (withDuplicates && o.duplicate) push(e);
  });
  return log;
}

/** Runs the log through the kernel's pure steps, as the runtime would after a crash: a prefix, then everything again. */
function crashAndRedeliver(log: LogItem[], crashAt: number) {
  const records = new Map<string, MemberRecord<PointsState>>();
  const published: OutputEvent[] = [];
  const run = (slice: LogItem[]) => {
    for (const { record, decoded } of slice) {
      if (record.tick !== undefined) {
        const tick = { rules, time: record.tick, tickId: tickId(record), offset: record.offset };
        for (const m of dueMembers(pointsLogic, [...records], record.tick)) {
          const step = stepTick(pointsLogic, records.get(m)!, m, record, tick, limits);
          records.set(m, step.record);
          published.push(...step.outputs);
        }
        continue;
      }
      if (decoded.kind !== 'event') continue;
      const ctx = {
        rules,
        record: { timestamp: record.timestamp, sizeBytes: 0, topic: 'test', partition: 0, offset: '0' },
      };
      const step = stepMember(
        pointsLogic,
        records.get(decoded.memberId) ?? emptyRecord(),
        { record, ...decoded },
        ctx,
        limits,
      );
      records.set(decoded.memberId, step.record);
      published.push(...step.outputs);
    }
  };
  run(log.slice(0, crashAt));
  run(log);
  return { records, published };
}

const byId = (outputs: OutputEvent[]) => {
  const m = new Map<string, OutputEvent>();
  for (const o of outputs) if (!m.has(o.id)) m.set(o.id, o);
  return m;
};

describe('points-accrual through the kernel: exactly once', () => {
  it('property: upstream duplicates change nothing, and a crash with redelivery gives the identical ledger (ids, values, order per member)', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), fc.nat(), (ops, cut) => {
        const clean = referenceRun(pointsLogic, buildLog(ops, false), rules, limits);
        const withDuplicates = buildLog(ops, true);
        const dup = referenceRun(pointsLogic, withDuplicates, rules, limits);
        expect([...byId(dup.outputs).values()].map((o) => [o.id, o.value])).toEqual(
          clean.outputs.map((o) => [o.id, o.value]),
        );
        expect(dup.states).toEqual(clean.states);

        const crashed = crashAndRedeliver(withDuplicates, cut % (withDuplicates.length + 1));
        const got = byId(crashed.published);
        expect([...got.keys()]).toEqual(dup.outputs.map((o) => o.id));
        for (const o of dup.outputs) expect(got.get(o.id)?.value).toEqual(o.value);
        for (const [m, s] of dup.states) expect(crashed.records.get(m)?.state).toEqual(s);
      }),
      { numRuns: 200 },
    );
  });
});
