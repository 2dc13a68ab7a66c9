import { behaviorEvent } from '../support/behavior-event.js';
import fc from 'fast-check';
import { expect } from 'vitest';
import { defaultRules, type Rules } from '../../shared/config/rules.js';
import type { BehaviorEventValue } from '../../shared/contracts/behavior-event.js';
import { avroType } from '../../shared/contracts/schemas.js';
import { pointsLogic } from '../../services/points-accrual/decide.js';
import type { LedgerEntry } from '../../services/points-accrual/ledger.js';
import { initialPointsState, type PointsState } from '../../services/points-accrual/state.js';

export const rules = defaultRules();
export const member = 'm1';
export const dayMs = 24 * 3600 * 1000;

export function withPoints(patch: Partial<Rules['points']>, base: Rules = rules): Rules {
  return { ...base, points: { ...base.points, ...patch } };
}

/** An instant given as a wall clock in Asia/Shanghai (UTC+8, no DST). */
export function sh(y: number, m: number, d: number, hh = 12, mm = 0, ss = 0): number {
  return Date.UTC(y, m - 1, d, hh - 8, mm, ss);
}

/** A behavior.events value with every optional field null; `id` is the activity event id. */
export function ev(
  id: string,
  type: string,
  occurredAt: number,
  extra: Partial<BehaviorEventValue> = {},
): BehaviorEventValue {
  return behaviorEvent({ eventId: `bhv:${id}`, sourceEventId: id, userId: member, type, occurredAt, ...extra });
}

export const purchase = (id: string, fen: number, at: number) =>
  ev(id, 'purchase', at, { amountFen: fen, itemId: 'c1' });
export const refund = (id: string, of: string, fen: number, at: number) =>
  ev(id, 'refund', at, { refundOf: of, amountFen: fen });
export const redeem = (id: string, points: number | null, at: number) =>
  ev(id, 'redeem', at, { points, rewardId: 'coupon' });
export const cancel = (id: string, of: string, at: number) => ev(id, 'redeem_cancel', at, { redeemOf: of });

export type Step = BehaviorEventValue | { tick: number; id?: string };
const isTick = (s: Step): s is { tick: number; id?: string } => 'tick' in s;

/** `clocks[i]`: the member's clock after step i (a tick that did not reach the member leaves it unchanged). */
export interface Run {
  state: PointsState;
  entries: LedgerEntry[];
  perStep: LedgerEntry[][];
  clocks: (number | null)[];
}

/**
 * Runs steps through the worker logic as the kernel would: a tick reaches the
 * member only once its time is at or after nextDue. Every output is checked
 * against the points.ledger Avro schema.
 */
export function run(steps: Step[], r: Rules = rules, start: PointsState = initialPointsState()): Run {
  let state = start;
  const perStep: LedgerEntry[][] = [];
  const clocks: (number | null)[] = [];
  steps.forEach((s, i) => {
    let d;
    if (isTick(s)) {
      const due = pointsLogic.nextDue!(state);
      if (due === null || s.tick < due) {
        perStep.push([]);
        clocks.push(state.clock);
        return;
      }
      d = pointsLogic.onTick!(state, member, {
        rules: r,
        time: s.tick,
        tickId: s.id ?? `tick:${i}`,
        offset: String(i),
      });
    } else {
      d = pointsLogic.decide(state, s, {
        rules: r,
        record: { timestamp: s.occurredAt, sizeBytes: 100, topic: 'test', partition: 0, offset: '0' },
      });
    }
    if (d.kind !== 'applied') throw new Error(`rejected: ${d.rejection.reason}`);
    for (const o of d.outputs) {
      const bad: string[] = [];
      avroType('points.ledger').isValid(o.value, { errorHook: (p) => bad.push(p.join('.')) });
      expect(bad, `invalid output ${o.id}`).toEqual([]);
      expect(o.topic).toBe('points.ledger');
      expect(o.key).toBe(member);
      expect(o.id).toBe((o.value as { eventId: string }).eventId);
    }
    state = d.state;
    perStep.push(d.outputs.map((o) => o.value as unknown as LedgerEntry));
    clocks.push(state.clock);
  });
  return { state, entries: perStep.flat(), perStep, clocks };
}

/** Entries as compact [kind, points, reason] triples, for table assertions. */
export const brief = (es: LedgerEntry[]) => es.map((e) => [e.kind, e.points, e.reason] as const);

export const last = <T>(xs: T[]): T => {
  const x = xs[xs.length - 1];
  if (x === undefined) throw new Error('empty');
  return x;
};

/** Rule sets the property tests run under: defaults, pending points, short windows and small bounds, a campaign. */
export const propertyRuleSets: Rules[] = [
  rules,
  withPoints({ pendingDays: 7 }),
  withPoints({
    expiryDays: 20,
    redemptionCancelDays: 15,
    pendingDays: 3,
    cancellableRedemptionsPerMember: 3,
    refundableCreditsPerMember: 4,
  }),
  withPoints({
    expiryDays: 10,
    campaigns: [{ id: 'c', startsAt: sh(2026, 2, 1), endsAt: sh(2026, 3, 1), multiplier: 3 }],
  }),
];

/** One generated operation of a member's history. */
export const pointsOp = fc.record({
  kind: fc.constantFrom(
    'purchase',
    'subscription',
    'comment',
    'share',
    'referral',
    'checkin',
    'refund',
    'redeem',
    'redeem_cancel',
    'tick',
    'tick',
  ),
  gap: fc.oneof(fc.integer({ min: 0, max: 2 * dayMs }), fc.integer({ min: 0, max: 12 * dayMs })),
  late: fc.integer({ min: 0, max: 40 * dayMs }),
  amount: fc.oneof(fc.integer({ min: 1, max: 60_000 }), fc.integer({ min: 10_000, max: 300_000 })),
  points: fc.constantFrom(0, 100, 100, 200, 200, 300, 500, 1000, 150, -100),
  pick: fc.nat(),
});
export type PointsOp = typeof pointsOp extends fc.Arbitrary<infer T> ? T : never;

/** Turns generated ops into steps with ids `<prefix><n>`; refunds and cancels mostly name earlier payments and redemptions. */
export function stepsFrom(ops: PointsOp[], withLate: boolean, prefix = 'e'): Step[] {
  let t = sh(2026, 1, 1, 9);
  const payments: [string, number][] = [];
  const redemptions: string[] = [];
  return ops.map((o, i) => {
    t += o.gap;
    const at = withLate && o.late > 30 * dayMs ? t - (o.late - 30 * dayMs) * 3 : t;
    const id = `${prefix}${i}`;
    switch (o.kind) {
      case 'tick':
        return { tick: t, id: `tick:${i}` };
      case 'purchase':
        payments.push([id, o.amount]);
        return purchase(id, o.amount, at);
      case 'subscription':
        payments.push([id, o.amount]);
        return ev(id, 'subscription', at, { amountFen: o.amount, plan: 'monthly', periodEnd: at + 30 * dayMs });
      case 'refund': {
        const p = o.pick % 10 === 0 ? undefined : payments[o.pick % Math.max(1, payments.length)];
        return refund(id, p?.[0] ?? 'unknown', p ? 1 + (o.amount % p[1]) : o.amount, at);
      }
      case 'redeem':
        redemptions.push(id);
        return redeem(id, o.points, at);
      case 'redeem_cancel':
        return cancel(
          id,
          (o.pick % 10 === 0 ? undefined : redemptions[o.pick % Math.max(1, redemptions.length)]) ?? 'unknown',
          at,
        );
      default:
        return ev(id, o.kind, at, { itemId: 'i' });
    }
  });
}

/** A very busy member for three years: a purchase, 12 comments and a redemption every day, cancels and refunds. */
export function busyThreeYears(): Step[] {
  const steps: Step[] = [];
  const start = sh(2026, 1, 1, 8);
  for (let d = 0; d < 3 * 366; d++) {
    const t = start + d * dayMs;
    steps.push(purchase(`p${d}`, 123_456, t));
    for (let i = 0; i < 12; i++) steps.push(ev(`c${d}-${i}`, 'comment', t + (i + 1) * 60_000, { itemId: 'i' }));
    steps.push(redeem(`x${d}`, 100 * (1 + (d % 5)), t + 3600_000));
    if (d % 7 === 3) steps.push(cancel(`k${d}`, `x${d - 2}`, t + 7200_000));
    if (d % 11 === 0) steps.push(refund(`r${d}`, `p${d - 3}`, 50_000, t + 9000_000));
  }
  return steps;
}
