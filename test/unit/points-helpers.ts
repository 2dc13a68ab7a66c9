import { expect } from 'vitest';
import { defaultRules, type Rules } from '../../shared/config/rules.js';
import type { BehaviorEventValue } from '../../shared/contracts/behavior-event.js';
import { avroType } from '../../shared/registry/codec.js';
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
export function ev(id: string, type: string, occurredAt: number, extra: Partial<BehaviorEventValue> = {}): BehaviorEventValue {
  return {
    eventId: `bhv:${id}`, sourceEventId: id, userId: member, type, occurredAt,
    source: null, amountFen: null, itemId: null, category: null, plan: null, periodEnd: null, refundOf: null,
    seconds: null, points: null, rewardId: null, redeemOf: null, referrerId: null, referredUserId: null,
    stage: 'activation', tags: [], purchaseCount: 0, totalSpendFen: 0, activeDays: 0, rulesVersion: 'b',
    ...extra,
  };
}

export const purchase = (id: string, fen: number, at: number) => ev(id, 'purchase', at, { amountFen: fen, itemId: 'c1' });
export const refund = (id: string, of: string, fen: number, at: number) => ev(id, 'refund', at, { refundOf: of, amountFen: fen });
export const redeem = (id: string, points: number | null, at: number) => ev(id, 'redeem', at, { points, rewardId: 'coupon' });
export const cancel = (id: string, of: string, at: number) => ev(id, 'redeem_cancel', at, { redeemOf: of });

export type Step = BehaviorEventValue | { tick: number; id?: string };
const isTick = (s: Step): s is { tick: number; id?: string } => 'tick' in s;

/** `clocks[i]`: the member's clock after step i (a tick that did not reach the member leaves it unchanged). */
export interface Run { state: PointsState; entries: LedgerEntry[]; perStep: LedgerEntry[][]; clocks: (number | null)[] }

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
      d = pointsLogic.onTick!(state, member, { rules: r, time: s.tick, tickId: s.id ?? `tick:${i}` });
    } else {
      d = pointsLogic.decide(state, s, { rules: r, record: { timestamp: s.occurredAt, sizeBytes: 100, topic: 'test', partition: 0, offset: '0' } });
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
