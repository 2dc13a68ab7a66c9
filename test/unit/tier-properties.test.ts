import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Rules } from '../../shared/config/rules.js';
import { tierLogic } from '../../services/tier-evaluation/decide.js';
import { supportedAt } from '../../services/tier-evaluation/evaluate.js';
import { qualifyingDelta } from '../../services/tier-evaluation/inputs.js';
import { tierIndex } from '../../services/tier-evaluation/ladder.js';
import type { LedgerKind } from '../../services/tier-evaluation/inputs.js';
import {
  behavior,
  dayMs,
  entry,
  isTick,
  rules,
  run,
  stepTime,
  subscribe,
  t0,
  withTiers,
  type Step,
} from './tier-helpers.js';

const ruleSets: Rules[] = [
  rules,
  withTiers({ downgrade: 'stepwise' }),
  withTiers({ windowDays: 30, graceDays: 5 }),
  withTiers({ windowDays: 20, graceDays: 0, downgrade: 'stepwise' }),
  withTiers({ windowDays: 40, graceDays: 10, planFloors: { annual: 'silver', monthly: 'gold' } }),
];

const op = fc.record({
  kind: fc.constantFrom<LedgerKind | 'purchase' | 'annual' | 'monthly' | 'tick'>(
    'earn',
    'earn',
    'bonus',
    'pending',
    'reverse',
    'debt',
    'spend',
    'expire',
    'available',
    'restore',
    'refuse',
    'purchase',
    'annual',
    'monthly',
    'tick',
    'tick',
    'tick',
  ),
  gap: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 3 * dayMs }), fc.integer({ min: 0, max: 90 * dayMs })),
  late: fc.integer({ min: 0, max: 400 * dayMs }),
  amount: fc.oneof(fc.integer({ min: 1, max: 120 }), fc.integer({ min: 1, max: 700 })),
  months: fc.integer({ min: 1, max: 14 }),
});
type Op = typeof op extends fc.Arbitrary<infer T> ? T : never;

function build(ops: Op[], withLate: boolean): Step[] {
  let t = t0;
  return ops.map((o, i) => {
    t += o.gap;
    const at = withLate && o.late > 300 * dayMs ? t - (o.late - 300 * dayMs) * 4 : t;
    const id = `e${i}`;
    switch (o.kind) {
      case 'tick':
        return { tick: t, id: `tick:${i}` };
      case 'purchase':
        return behavior(id, 'purchase', at, { amountFen: 100 });
      case 'annual':
      case 'monthly':
        return subscribe(id, o.kind, at, at + o.months * 30 * dayMs);
      default:
        return entry(id, o.kind, o.amount, at);
    }
  });
}

/** Qualifying points by brute force over every input so far (what the bounded window must equal). */
function bruteForce(steps: Step[], upto: number, windowMs: number, now: number): number {
  let sum = 0;
  for (const s of steps.slice(0, upto)) {
    if (isTick(s) || s.source !== 'ledger') continue;
    const t = s.entry.occurredAt;
    if (t <= now && now < t + windowMs) sum += qualifyingDelta(s.entry);
  }
  return Math.max(0, sum);
}

function checkInvariants(steps: Step[], r: Rules) {
  const res = run(steps, r);
  res.states.forEach((s, i) => {
    if (s.tier === null) return;
    const clock = s.clock!;
    const sup = supportedAt(s, r, clock);
    const idx = tierIndex(r, s.tier);
    if (s.grace === null) expect(idx, `step ${i}`).toBe(sup.supported);
    else {
      expect(idx, `step ${i}`).toBeGreaterThan(sup.supported);
      expect(s.grace.endsAt).toBeGreaterThan(clock);
    }
    const due = tierLogic.nextDue!(s);
    if (due !== null) expect(due).toBeGreaterThan(clock);
    expect(s.window.length).toBeLessThanOrEqual(r.tiers.maxWindowEntries);
    expect(sup.points).toBe(bruteForce(steps, i + 1, s.windowMs, clock));
  });
  const initials = res.changes.filter((c) => c.kind === 'initial');
  expect(initials.length).toBeLessThanOrEqual(1);
  if (initials.length === 1) expect(res.changes[0]!.kind).toBe('initial');
  expect(new Set(res.outputs.map((o) => o.id)).size).toBe(res.outputs.length);
  return res;
}

const ignoreSource = <T extends { sourceEventId: string }>(xs: T[]) => xs.map((x) => ({ ...x, sourceEventId: '' }));

describe('tiers: properties', () => {
  it('outside grace the tier is what points and floors support; within grace it is higher; ids are unique', () => {
    fc.assert(
      fc.property(
        fc.array(op, { maxLength: 60 }),
        fc.nat({ max: ruleSets.length - 1 }),
        fc.boolean(),
        (ops, ri, late) => {
          checkInvariants(build(ops, late), ruleSets[ri]!);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('running twice gives identical outputs and states', () => {
    fc.assert(
      fc.property(
        fc.array(op, { maxLength: 60 }),
        fc.nat({ max: ruleSets.length - 1 }),
        fc.boolean(),
        (ops, ri, late) => {
          const steps = build(ops, late);
          const a = run(steps, ruleSets[ri]);
          const b = run(steps, ruleSets[ri]);
          expect(b.outputs).toEqual(a.outputs);
          expect(b.state).toEqual(a.state);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('with or without ticks: the same tier history (ids included), the same final state but for the clock', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), fc.nat({ max: ruleSets.length - 1 }), (ops, ri) => {
        const r = ruleSets[ri]!;
        const steps = build(ops, false);
        const end = Math.max(t0, ...steps.map(stepTime)) + 1000 * dayMs;
        const flush: Step = { tick: end, id: 'flush' };
        const withTicks = run([...steps, flush], r);
        const without = run([...steps.filter((s) => !isTick(s)), flush], r);
        expect(ignoreSource(without.changes)).toEqual(ignoreSource(withTicks.changes));
        // The clock is the latest instant applied: a tick that found work moves it further; everything else is equal.
        expect({ ...without.state, clock: 0 }).toEqual({ ...withTicks.state, clock: 0 });
      }),
      { numRuns: 300 },
    );
  });

  it('a small window bound keeps the state bounded and the invariants (except exact points) hold', () => {
    const r = withTiers({ maxWindowEntries: 4, windowDays: 30, graceDays: 5 });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const res = run(build(ops, false), r);
        for (const s of res.states) {
          expect(s.window.length).toBeLessThanOrEqual(4);
          if (s.tier === null) continue;
          const sup = supportedAt(s, r, s.clock!);
          const idx = tierIndex(r, s.tier);
          if (s.grace === null) expect(idx).toBe(sup.supported);
          else expect(idx).toBeGreaterThan(sup.supported);
        }
      }),
      { numRuns: 100 },
    );
  });
});
