import { describe, expect, it } from 'vitest';
import { parseRules } from '../../shared/config/rules.js';
import { tierLogic } from '../../services/tier-evaluation/decide.js';
import { indexForPoints, pointsToNext } from '../../services/tier-evaluation/ladder.js';
import { addMovement, qualifyingAt } from '../../services/tier-evaluation/window.js';
import { recordSubscription } from '../../services/tier-evaluation/floors.js';
import { initialTierState } from '../../services/tier-evaluation/state.js';
import {
  behavior,
  brief,
  dayMs,
  earn,
  entry,
  member,
  reverse,
  rules,
  run,
  t0,
  withTiers,
  yearMs,
} from './tier-helpers.js';

describe('tiers: ladder and thresholds', () => {
  it.each([
    [0, 'bronze'],
    [100, 'bronze'],
    [101, 'silver'],
    [500, 'silver'],
    [501, 'gold'],
    [100_000, 'gold'],
  ])('%i qualifying points is %s', (points, tier) => {
    expect(rules.tiers.ladder[indexForPoints(rules, points)]!.name).toBe(tier);
    const r = run([earn('e1', points, t0)]);
    expect(brief(r.changes)).toEqual([['initial', null, tier]]);
    expect(r.changes[0]!.qualifyingPoints).toBe(points);
  });

  it('upgrades on the entry that crosses the threshold, at 101 and 501 exactly', () => {
    const r = run([earn('a', 100, t0), earn('b', 1, t0 + 1), earn('c', 399, t0 + 2), earn('d', 1, t0 + 3)]);
    expect(r.perStep.map(brief)).toEqual([
      [['initial', null, 'bronze']],
      [['upgrade', 'bronze', 'silver']],
      [],
      [['upgrade', 'silver', 'gold']],
    ]);
    const up = r.perStep[3]![0]!;
    expect(up).toMatchObject({
      eventId: 'tier:d:upgrade',
      userId: member,
      reason: 'points_earned',
      qualifyingPoints: 501,
      pointsToNextTier: null,
      pointsToKeepTier: null,
      graceEndsAt: null,
      benefits: rules.tiers.ladder[2]!.benefits,
      rulesVersion: rules.version,
      decidedAt: t0 + 3,
      sourceEventId: 'd',
      newTierLabel: '高级会员',
    });
    expect(r.perStep[1]![0]!.pointsToNextTier).toBe(400);
  });

  it('skips a tier when one entry crosses two thresholds', () => {
    const r = run([earn('a', 50, t0), earn('b', 600, t0 + dayMs)]);
    expect(brief(r.changes)).toEqual([
      ['initial', null, 'bronze'],
      ['upgrade', 'bronze', 'gold'],
    ]);
  });

  it('takes names, thresholds and benefits from the rules', () => {
    const r2 = withTiers({
      ladder: [
        { name: 'basic', label: 'B', minPoints: 0, benefits: ['x'] },
        { name: 'plus', label: 'P', minPoints: 10, benefits: ['y'] },
      ],
    });
    const r = run([earn('a', 9, t0), earn('b', 1, t0 + 1)], r2);
    expect(brief(r.changes)).toEqual([
      ['initial', null, 'basic'],
      ['upgrade', 'basic', 'plus'],
    ]);
    expect(r.changes[1]!.benefits).toEqual(['y']);
    expect(pointsToNext(r2, 1, 10)).toBeNull();
  });

  it('counts credits (earn, bonus, pending) and reversals (reverse, debt); nothing else moves qualifying points', () => {
    const r = run([
      entry('a', 'earn', 60, t0),
      entry('b', 'bonus', 30, t0 + 1),
      entry('c', 'pending', 20, t0 + 2), // 110: silver
      entry('d', 'available', 20, t0 + 3),
      entry('e', 'spend', 100, t0 + 4),
      entry('f', 'expire', 10, t0 + 5),
      entry('g', 'restore', 100, t0 + 6),
      entry('h', 'refuse', 0, t0 + 7),
      entry('i', 'reverse', 5, t0 + 8),
      entry('j', 'debt', 5, t0 + 9), // 100: at risk
    ]);
    expect(r.perStep.map((cs) => cs.map((c) => c.kind))).toEqual([
      ['initial'],
      [],
      ['upgrade'],
      [],
      [],
      [],
      [],
      [],
      [],
      ['tier_at_risk'],
    ]);
    expect(r.changes[2]!.qualifyingPoints).toBe(100);
  });

  it('ignores refuse entries and behavior events other than subscriptions: no state change, no output', () => {
    const s0 = initialTierState();
    for (const input of [
      entry('x', 'refuse', 0, t0),
      behavior('p', 'purchase', t0, { amountFen: 100 }),
      behavior('c', 'comment', t0),
    ]) {
      const d = tierLogic.decide(s0, input, {
        rules,
        record: { timestamp: t0, sizeBytes: 1, topic: 'test', partition: 0, offset: '0' },
      });
      expect(d).toEqual({ kind: 'applied', state: s0, outputs: [] });
    }
    const r = run([earn('a', 200, t0), behavior('p', 'purchase', t0 + yearMs + 1)]);
    expect(r.perStep[1]).toEqual([]);
    expect(r.states[1]).toBe(r.states[0]);
  });

  it('the first ledger entry of any kind but refuse is the initial decision', () => {
    expect(brief(run([entry('s', 'spend', 100, t0)]).changes)).toEqual([['initial', null, 'bronze']]);
    expect(run([entry('s', 'spend', 100, t0)]).changes[0]!.reason).toBe('ledger_entry');
  });
});

describe('tiers: the rolling window', () => {
  it('a point leaves the window at exactly its instant + windowDays, to the millisecond', () => {
    const w: [number, number][] = [[t0, 200]];
    expect(qualifyingAt(w, yearMs, t0 + yearMs - 1)).toBe(200);
    expect(qualifyingAt(w, yearMs, t0 + yearMs)).toBe(0);
    const r = run([earn('a', 200, t0), { tick: t0 + yearMs - 1 }, { tick: t0 + yearMs }]);
    expect(r.perStep.map(brief)).toEqual([[['initial', null, 'silver']], [], [['tier_at_risk', 'silver', 'silver']]]);
    expect(r.changes[1]).toMatchObject({
      eventId: `tier:due:${member}:${t0 + yearMs}:tier_at_risk`,
      reason: 'points_left_window',
      qualifyingPoints: 0,
      pointsToKeepTier: 101,
      graceEndsAt: t0 + yearMs + 30 * dayMs,
      decidedAt: t0 + yearMs,
      sourceEventId: 'tick:2',
    });
  });

  it('merges movements of the same millisecond and drops a net zero', () => {
    expect(addMovement([[1, 5]], 1, 3, 10)).toEqual([[1, 8]]);
    expect(
      addMovement(
        [
          [1, 5],
          [3, 1],
        ],
        1,
        -5,
        10,
      ),
    ).toEqual([[3, 1]]);
    expect(
      addMovement(
        [
          [1, 5],
          [3, 1],
        ],
        2,
        4,
        10,
      ),
    ).toEqual([
      [1, 5],
      [2, 4],
      [3, 1],
    ]);
    const r = run([earn('a', 200, t0), reverse('b', 200, t0), earn('c', 1, t0 + 5)]);
    expect(r.state.window).toEqual([[t0 + 5, 1]]);
  });

  it('stays bounded: beyond maxWindowEntries the two closest movements merge into the later instant', () => {
    expect(
      addMovement(
        [
          [0, 1],
          [10, 1],
          [11, 1],
        ],
        30,
        1,
        3,
      ),
    ).toEqual([
      [0, 1],
      [11, 2],
      [30, 1],
    ]);
    const r2 = withTiers({ maxWindowEntries: 8 });
    const r = run(
      Array.from({ length: 50 }, (_, i) => earn(`e${i}`, 3, t0 + i * 1000 + (i % 7) * 13)),
      r2,
    );
    expect(r.state.window.length).toBe(8);
    expect(r.state.window.reduce((a, [, p]) => a + p, 0)).toBe(150);
  });

  it('a late entry counts from its own instant, and not at all if already out of the window', () => {
    const r = run([earn('a', 50, t0 + 2 * yearMs), earn('late', 60, t0 + yearMs + 10), earn('old', 500, t0)]);
    expect(brief(r.changes)).toEqual([
      ['initial', null, 'bronze'],
      ['upgrade', 'bronze', 'silver'],
    ]);
    expect(r.changes[1]!.decidedAt).toBe(t0 + 2 * yearMs);
    expect(r.perStep[2]).toEqual([]);
    // The late entry leaves at its own instant + a year.
    expect(tierLogic.nextDue!(r.state)).toBe(t0 + 2 * yearMs + 10);
  });

  it('window length comes from the rules', () => {
    const r2 = withTiers({ windowDays: 10 });
    const r = run([earn('a', 200, t0), { tick: t0 + 10 * dayMs }], r2);
    expect(brief(r.changes)).toEqual([
      ['initial', null, 'silver'],
      ['tier_at_risk', 'silver', 'silver'],
    ]);
  });
});

describe('tiers: rules file', () => {
  it('re-anchors a member whose tier the ladder no longer has, at their next decision', () => {
    const start = { ...initialTierState(), clock: t0, tier: 'platinum' };
    const r = run([earn('a', 200, t0 + 1)], rules, start);
    expect(brief(r.changes)).toEqual([['upgrade', 'platinum', 'silver']]);
    expect(r.changes[0]!.reason).toBe('ladder_changed');
  });

  it('defaults to direct downgrades and a bounded window', () => {
    expect(rules.tiers.downgrade).toBe('direct');
    expect(rules.tiers.windowDays).toBe(365);
    expect(rules.tiers.maxWindowEntries).toBe(1024);
  });

  it('refuses a floor naming a tier not in the ladder', () => {
    const bad = { ...rules, tiers: { ...rules.tiers, planFloors: { annual: 'platinum' } } };
    expect(() => parseRules(bad, 'x.json')).toThrow(/tiers.planFloors.annual/);
  });

  it('keeps the longest-running subscription per plan', () => {
    const f = recordSubscription([['annual', 100]], 'annual', 50, 0);
    expect(f).toEqual([['annual', 100]]);
    expect(recordSubscription(f, 'annual', 150, 0)).toEqual([['annual', 150]]);
    expect(recordSubscription(f, 'monthly', 10, 20)).toEqual([['annual', 100]]);
  });
});
