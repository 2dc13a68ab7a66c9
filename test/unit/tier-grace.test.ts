import { describe, expect, it } from 'vitest';
import { tierLogic } from '../../services/tier-evaluation/decide.js';
import {
  brief,
  dayMs,
  earn,
  graceMs,
  member,
  reverse,
  rules,
  run,
  subscribe,
  t0,
  withTiers,
  yearMs,
} from './tier-helpers.js';

const stepwise = withTiers({ downgrade: 'stepwise' });
const exit = t0 + yearMs; // when the t0 credit leaves the window

describe('tiers: grace periods', () => {
  it('starts a grace period when points leave the window, and downgrades at its exact end', () => {
    const r = run([earn('a', 200, t0), { tick: exit }, { tick: exit + graceMs - 1 }, { tick: exit + graceMs }]);
    expect(r.perStep.map(brief)).toEqual([
      [['initial', null, 'silver']],
      [['tier_at_risk', 'silver', 'silver']],
      [],
      [['downgrade', 'silver', 'bronze']],
    ]);
    expect(r.changes[2]).toMatchObject({
      eventId: `tier:due:${member}:${exit + graceMs}:downgrade`,
      reason: 'grace_ended',
      graceEndsAt: null,
      pointsToKeepTier: null,
      qualifyingPoints: 0,
      pointsToNextTier: 101,
      decidedAt: exit + graceMs,
      benefits: rules.tiers.ladder[0]!.benefits,
    });
    expect(r.state.grace).toBeNull();
    expect(tierLogic.nextDue!(r.state)).toBeNull();
  });

  it('cancels the grace period when enough points come back (tier_kept), and not before', () => {
    const r = run([
      earn('a', 200, t0),
      { tick: exit },
      earn('b', 100, exit + dayMs),
      earn('c', 1, exit + 2 * dayMs),
      { tick: exit + graceMs },
    ]);
    expect(r.perStep.map(brief)).toEqual([
      [['initial', null, 'silver']],
      [['tier_at_risk', 'silver', 'silver']],
      [],
      [['tier_kept', 'silver', 'silver']],
      [],
    ]);
    expect(r.changes[2]).toMatchObject({
      eventId: 'tier:c:tier_kept',
      reason: 'points_earned',
      graceEndsAt: null,
      qualifyingPoints: 101,
    });
    expect(r.state.tier).toBe('silver');
  });

  it('upgrading during grace ends it too', () => {
    const r = run([earn('a', 200, t0), { tick: exit }, earn('b', 600, exit + dayMs)]);
    expect(brief(r.perStep[2]!)).toEqual([['upgrade', 'silver', 'gold']]);
    expect(r.state.grace).toBeNull();
  });

  it('a second drop during grace is announced again with the same end, then the grace end goes straight down', () => {
    const r = run([
      earn('a', 400, t0),
      earn('b', 200, t0 + 100 * dayMs),
      { tick: exit },
      reverse('c', 150, exit + 5 * dayMs),
      reverse('d', 10, exit + 6 * dayMs),
      earn('e', 5, exit + 7 * dayMs),
      { tick: exit + graceMs },
    ]);
    expect(r.perStep.map(brief)).toEqual([
      [['initial', null, 'silver']],
      [['upgrade', 'silver', 'gold']],
      [['tier_at_risk', 'gold', 'gold']],
      [['tier_at_risk', 'gold', 'gold']],
      [['tier_at_risk', 'gold', 'gold']],
      [],
      [['downgrade', 'gold', 'bronze']],
    ]);
    expect(r.changes[2]).toMatchObject({ qualifyingPoints: 200, pointsToKeepTier: 301, graceEndsAt: exit + graceMs });
    expect(r.changes[3]).toMatchObject({
      eventId: 'tier:c:tier_at_risk',
      reason: 'points_reversed',
      qualifyingPoints: 50,
      pointsToKeepTier: 451,
      graceEndsAt: exit + graceMs,
    });
    expect(r.changes[4]).toMatchObject({ qualifyingPoints: 40, pointsToKeepTier: 461, graceEndsAt: exit + graceMs });
  });

  it('a refund that pushes a Gold member below Silver: grace, then Bronze (direct)', () => {
    const steps = [earn('a', 600, t0), reverse('r', 550, t0 + dayMs), { tick: t0 + dayMs + graceMs }];
    const r = run(steps);
    expect(r.perStep.map(brief)).toEqual([
      [['initial', null, 'gold']],
      [['tier_at_risk', 'gold', 'gold']],
      [['downgrade', 'gold', 'bronze']],
    ]);
    expect(r.changes[1]).toMatchObject({
      reason: 'points_reversed',
      qualifyingPoints: 50,
      pointsToKeepTier: 451,
      graceEndsAt: t0 + dayMs + graceMs,
    });
  });

  it('stepwise: one tier down at the grace end, with a new grace period if still short', () => {
    const end1 = t0 + dayMs + graceMs;
    const r = run(
      [earn('a', 600, t0), reverse('r', 550, t0 + dayMs), { tick: end1 }, { tick: end1 + graceMs }],
      stepwise,
    );
    expect(r.perStep.map(brief)).toEqual([
      [['initial', null, 'gold']],
      [['tier_at_risk', 'gold', 'gold']],
      [
        ['downgrade', 'gold', 'silver'],
        ['tier_at_risk', 'silver', 'silver'],
      ],
      [['downgrade', 'silver', 'bronze']],
    ]);
    expect(r.changes[3]).toMatchObject({
      eventId: `tier:due:${member}:${end1}:tier_at_risk`,
      pointsToKeepTier: 51,
      graceEndsAt: end1 + graceMs,
      reason: 'grace_ended',
    });
  });

  it('stepwise stops where the points are: no new grace period when one step is enough', () => {
    const r = run([earn('a', 600, t0), reverse('r', 400, t0 + dayMs), { tick: t0 + dayMs + graceMs }], stepwise);
    expect(brief(r.changes)).toEqual([
      ['initial', null, 'gold'],
      ['tier_at_risk', 'gold', 'gold'],
      ['downgrade', 'gold', 'silver'],
    ]);
    expect(r.state.grace).toBeNull();
  });

  it('graceDays 0: the downgrade is immediate', () => {
    const r = run([earn('a', 600, t0), reverse('r', 550, t0 + dayMs)], withTiers({ graceDays: 0 }));
    expect(brief(r.changes)).toEqual([
      ['initial', null, 'gold'],
      ['downgrade', 'gold', 'bronze'],
    ]);
  });

  it('a grace end is applied by the next input too, with the same ids as a tick would give', () => {
    const withTick = run([
      earn('a', 200, t0),
      { tick: exit },
      { tick: exit + graceMs },
      earn('b', 1, exit + graceMs + dayMs),
    ]);
    const noTick = run([earn('a', 200, t0), earn('b', 1, exit + graceMs + dayMs)]);
    expect(noTick.changes.map((c) => c.eventId)).toEqual(withTick.changes.map((c) => c.eventId));
    expect(noTick.changes.map((c) => ({ ...c, sourceEventId: '' }))).toEqual(
      withTick.changes.map((c) => ({ ...c, sourceEventId: '' })),
    );
    expect(noTick.state).toEqual(withTick.state);
  });
});

describe('tiers: plan floors', () => {
  it('an annual plan keeps a member at least Silver until its periodEnd; then the usual grace applies', () => {
    const end = t0 + yearMs;
    const r = run([
      subscribe('s', 'annual', t0, end),
      earn('a', 50, t0 + 200 * dayMs),
      { tick: end - 1 },
      { tick: end },
      { tick: end + graceMs },
    ]);
    expect(r.perStep.map(brief)).toEqual([
      [['initial', null, 'silver']],
      [],
      [],
      [['tier_at_risk', 'silver', 'silver']],
      [['downgrade', 'silver', 'bronze']],
    ]);
    expect(r.changes[0]).toMatchObject({
      reason: 'subscription',
      floorTier: 'silver',
      qualifyingPoints: 0,
      pointsToNextTier: 501,
    });
    expect(r.changes[1]).toMatchObject({
      reason: 'plan_ended',
      floorTier: null,
      pointsToKeepTier: 51,
      graceEndsAt: end + graceMs,
    });
  });

  it('a floor starting lifts a Bronze member at once; a monthly plan has no floor', () => {
    const r = run([
      earn('a', 10, t0),
      subscribe('m', 'monthly', t0 + 1, t0 + 30 * dayMs),
      subscribe('y', 'annual', t0 + 2, t0 + yearMs),
    ]);
    expect(r.perStep.map(brief)).toEqual([[['initial', null, 'bronze']], [], [['upgrade', 'bronze', 'silver']]]);
  });

  it('a floor starting during grace keeps the tier', () => {
    const r = run([earn('a', 200, t0), { tick: exit }, subscribe('y', 'annual', exit + dayMs, exit + yearMs)]);
    expect(brief(r.perStep[2]!)).toEqual([['tier_kept', 'silver', 'silver']]);
  });

  it('the longest-running subscription of a plan counts: a shorter renewal does not end the floor sooner', () => {
    const r = run([
      subscribe('y1', 'annual', t0, t0 + 2 * yearMs),
      subscribe('y2', 'annual', t0 + dayMs, t0 + yearMs),
      { tick: t0 + yearMs },
      { tick: t0 + 2 * yearMs },
    ]);
    expect(r.perStep.map(brief)).toEqual([
      [['initial', null, 'silver']],
      [],
      [],
      [['tier_at_risk', 'silver', 'silver']],
    ]);
  });

  it('a floor above the points does not hide a drop of points the floor still covers', () => {
    const r = run([subscribe('y', 'annual', t0, t0 + 2 * yearMs), earn('a', 200, t0 + 1), { tick: t0 + 1 + yearMs }]);
    expect(r.perStep.map(brief)).toEqual([[['initial', null, 'silver']], [], []]);
  });

  it('a late subscription whose period is already over changes nothing but can be the initial decision', () => {
    const r = run([earn('a', 10, t0 + yearMs), subscribe('y', 'annual', t0, t0 + dayMs)]);
    expect(r.perStep.map(brief)).toEqual([[['initial', null, 'bronze']], []]);
    expect(r.state.floors).toEqual([]);
  });
});
