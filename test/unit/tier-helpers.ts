import { behaviorEvent } from '../support/behavior-event.js';
import { expect } from 'vitest';
import { defaultRules, type Rules } from '../../shared/config/rules.js';
import type { BehaviorEventValue } from '../../shared/contracts/behavior-event.js';
import type { OutputEvent } from '../../shared/kernel/types.js';
import { avroType } from '../../shared/contracts/schemas.js';
import { tierLogic, type TierInput } from '../../services/tier-evaluation/decide.js';
import type { MemberTier, TierChange } from '../../services/tier-evaluation/events.js';
import type { LedgerEntryValue, LedgerKind } from '../../services/tier-evaluation/inputs.js';
import { initialTierState, type TierState } from '../../services/tier-evaluation/state.js';

export const rules = defaultRules();
export const member = 'm1';
export const dayMs = 24 * 3600 * 1000;
export const yearMs = 365 * dayMs;
export const graceMs = 30 * dayMs;
export const t0 = Date.UTC(2026, 0, 1, 4, 0, 0);

export function withTiers(patch: Partial<Rules['tiers']>, base: Rules = rules): Rules {
  return { ...base, tiers: { ...base.tiers, ...patch } };
}

/** A points.ledger entry. Credits carry +amount, reversals −amount in `points` (as points-accrual writes them). */
export function entry(id: string, kind: LedgerKind, amount: number, at: number): TierInput {
  const sign = ['reverse', 'debt', 'spend', 'expire'].includes(kind)
    ? -1
    : kind === 'available' || kind === 'refuse'
      ? 0
      : 1;
  const e: LedgerEntryValue = {
    eventId: id,
    userId: member,
    kind,
    points: sign * amount,
    amount,
    lots: [],
    availableAfter: 0,
    pendingAfter: 0,
    debtAfter: 0,
    qualifyingPoints: 0,
    rulesVersion: 'p',
    sourceEventId: `bhv:${id}`,
    relatedEventId: null,
    occurredAt: at,
    reason: 'r',
    plan: null,
    periodEnd: null,
  };
  return { source: 'ledger', entry: e };
}
export const earn = (id: string, amount: number, at: number) => entry(id, 'earn', amount, at);
export const reverse = (id: string, amount: number, at: number) => entry(id, 'reverse', amount, at);

export function behavior(id: string, type: string, at: number, extra: Partial<BehaviorEventValue> = {}): TierInput {
  const event = behaviorEvent({ eventId: id, sourceEventId: id, userId: member, type, occurredAt: at, ...extra });
  return { source: 'behavior', event };
}
export const subscribe = (id: string, plan: string, at: number, periodEnd: number) =>
  behavior(id, 'subscription', at, { plan, periodEnd, amountFen: 100 });

export type Step = TierInput | { tick: number; id?: string };
export const isTick = (s: Step): s is { tick: number; id?: string } => 'tick' in s;
export const stepTime = (s: Step) =>
  isTick(s) ? s.tick : s.source === 'ledger' ? s.entry.occurredAt : s.event.occurredAt;

export interface Run {
  state: TierState;
  states: TierState[];
  changes: TierChange[];
  perStep: TierChange[][];
  outputs: OutputEvent[];
}

/**
 * Runs steps through the logic as the kernel would (a tick reaches the member
 * only at or after nextDue). Every output is checked against its Avro schema,
 * and every change is followed by its member.tiers record.
 */
export function run(steps: Step[], r: Rules = rules, start: TierState = initialTierState()): Run {
  let state = start;
  const perStep: TierChange[][] = [];
  const states: TierState[] = [];
  const outputs: OutputEvent[] = [];
  steps.forEach((s, i) => {
    let d;
    if (isTick(s)) {
      const due = tierLogic.nextDue!(state);
      if (due === null || s.tick < due) {
        perStep.push([]);
        states.push(state);
        return;
      }
      d = tierLogic.onTick!(state, member, { rules: r, time: s.tick, tickId: s.id ?? `tick:${i}`, offset: String(i) });
    } else {
      d = tierLogic.decide(state, s, {
        rules: r,
        record: { timestamp: stepTime(s), sizeBytes: 100, topic: 'test', partition: 0, offset: '0' },
      });
    }
    if (d.kind !== 'applied') throw new Error(`rejected: ${d.rejection.reason}`);
    for (const o of d.outputs) {
      const bad: string[] = [];
      avroType(o.topic).isValid(o.value, { errorHook: (p) => bad.push(p.join('.')) });
      expect(bad, `invalid output ${o.id}`).toEqual([]);
      expect(o.key).toBe(member);
    }
    const changes: TierChange[] = [];
    d.outputs.forEach((o, j) => {
      if (o.topic !== 'member.tier-changes') return;
      const c = o.value as unknown as TierChange;
      expect(o.id).toBe(c.eventId);
      const rec = d.outputs[j + 1];
      expect(rec?.topic).toBe('member.tiers');
      expect((rec?.value as unknown as MemberTier).tier).toBe(c.newTier);
      changes.push(c);
    });
    expect(d.outputs.length).toBe(changes.length * 2);
    outputs.push(...d.outputs);
    state = d.state;
    states.push(state);
    perStep.push(changes);
  });
  return { state, states, changes: perStep.flat(), perStep, outputs };
}

/** Changes as [kind, previousTier, newTier] triples, for table assertions. */
export const brief = (cs: TierChange[]) => cs.map((c) => [c.kind, c.previousTier, c.newTier] as const);
