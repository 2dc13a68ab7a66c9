import { describe, expect, it } from 'vitest';
import { decideBehavior } from '../../services/behavior-events/decide.js';
import { newProfile, type MemberProfile } from '../../services/behavior-events/profile.js';
import type { ActivityEvent } from '../../shared/contracts/activity-event.js';
import { activity, rules } from './fixtures.js';

const recordTs = Date.UTC(2026, 1, 1, 4, 0, 0);
const ctx = { rules, record: { timestamp: recordTs, sizeBytes: 100, topic: 'test', partition: 0, offset: '0' } };

function apply(events: ActivityEvent[], start: MemberProfile = newProfile()) {
  let state = start;
  const outputs = [];
  for (const e of events) {
    const d = decideBehavior(state, e, ctx);
    if (d.kind === 'rejected') throw new Error(`unexpected rejection ${d.rejection.reason}`);
    state = d.state;
    outputs.push(...d.outputs);
  }
  return { state, outputs };
}

describe('behavior-events: validation reasons', () => {
  const u = 'u1';
  const cases: [string, ActivityEvent, string][] = [
    ['unknown type', activity({ eventId: 'e', userId: u, type: 'teleport' }), 'unknown_type'],
    ['purchase without amount', activity({ eventId: 'e', userId: u, type: 'purchase', itemId: 'c1' }), 'missing_field'],
    ['purchase without item', activity({ eventId: 'e', userId: u, type: 'purchase', amountFen: 100 }), 'missing_field'],
    [
      'negative amount',
      activity({ eventId: 'e', userId: u, type: 'purchase', itemId: 'c1', amountFen: -5 }),
      'invalid_amount',
    ],
    [
      'zero subscription amount',
      activity({
        eventId: 'e',
        userId: u,
        type: 'subscription',
        plan: 'annual',
        amountFen: 0,
        periodEnd: recordTs + 1,
      }),
      'invalid_amount',
    ],
    [
      'amount above ceiling',
      activity({ eventId: 'e', userId: u, type: 'purchase', itemId: 'c1', amountFen: rules.behavior.maxAmountFen + 1 }),
      'amount_above_ceiling',
    ],
    [
      'refund without refundOf',
      activity({ eventId: 'e', userId: u, type: 'refund', amountFen: 100 }),
      'refund_without_original',
    ],
    [
      'future beyond skew',
      activity({ eventId: 'e', userId: u, type: 'checkin', occurredAt: recordTs + rules.behavior.maxFutureSkewMs + 1 }),
      'occurred_in_future',
    ],
    [
      'bad plan',
      activity({
        eventId: 'e',
        userId: u,
        type: 'subscription',
        plan: 'weekly',
        amountFen: 100,
        periodEnd: recordTs + 1,
      }),
      'invalid_plan',
    ],
    [
      'period ends before start',
      activity({
        eventId: 'e',
        userId: u,
        type: 'subscription',
        plan: 'annual',
        amountFen: 100,
        periodEnd: recordTs - 1,
        occurredAt: recordTs,
      }),
      'invalid_period',
    ],
    [
      'redeem zero points',
      activity({ eventId: 'e', userId: u, type: 'redeem', points: 0, rewardId: 'r' }),
      'invalid_points',
    ],
    [
      'negative seconds',
      activity({ eventId: 'e', userId: u, type: 'lesson_complete', itemId: 'l', seconds: -1 }),
      'invalid_seconds',
    ],
    ['self referral', activity({ eventId: 'e', userId: u, type: 'signup', referrerId: u }), 'self_referral'],
    ['redeem_cancel without redeemOf', activity({ eventId: 'e', userId: u, type: 'redeem_cancel' }), 'missing_field'],
  ];
  it.each(cases)('%s → %s', (_name, event, reason) => {
    const d = decideBehavior(newProfile(), event, ctx);
    expect(d.kind).toBe('rejected');
    if (d.kind === 'rejected') {
      expect(d.rejection.reason).toBe(reason);
      expect(d.rejection.message.length).toBeGreaterThan(5);
    }
  });

  it('accepts a free purchase (a free course is an enrolment) and counts it as a purchase', () => {
    const d = decideBehavior(
      newProfile(),
      activity({ eventId: 'free', userId: u, type: 'purchase', itemId: 'c1', amountFen: 0 }),
      ctx,
    );
    expect(d.kind).toBe('applied');
    if (d.kind === 'applied') expect(d.state.purchaseCount).toBe(1);
  });

  it('refuses a refund of a payment the member never made, while its history is complete', () => {
    const { state } = apply([activity({ eventId: 'p1', userId: u, type: 'purchase', itemId: 'c1', amountFen: 1000 })]);
    const d = decideBehavior(
      state,
      activity({ eventId: 'r1', userId: u, type: 'refund', refundOf: 'someone-elses', amountFen: 10 }),
      ctx,
    );
    expect(d.kind === 'rejected' && d.rejection.reason).toBe('refund_unknown_original');
  });

  it('lets a refund of an unknown payment through once older payments were forgotten (downstream decides)', () => {
    const small = { ...rules, behavior: { ...rules.behavior, refundableHistoryPerMember: 1 } };
    let state = newProfile();
    for (const id of ['p1', 'p2']) {
      const d = decideBehavior(
        state,
        activity({ eventId: id, userId: u, type: 'purchase', itemId: 'c', amountFen: 500 }),
        { ...ctx, rules: small },
      );
      if (d.kind !== 'applied') throw new Error('purchase refused');
      state = d.state;
    }
    expect(state.refundable.map(([id]) => id)).toEqual(['p2']);
    const d = decideBehavior(
      state,
      activity({ eventId: 'r', userId: u, type: 'refund', refundOf: 'p1', amountFen: 100 }),
      { ...ctx, rules: small },
    );
    expect(d.kind).toBe('applied');
  });

  it('accepts an event exactly at the skew limit', () => {
    const e = activity({
      eventId: 'e',
      userId: u,
      type: 'checkin',
      occurredAt: recordTs + rules.behavior.maxFutureSkewMs,
    });
    expect(decideBehavior(newProfile(), e, ctx).kind).toBe('applied');
  });

  it('refuses a refund larger than what is left of its purchase, across partial refunds', () => {
    const { state } = apply([
      activity({ eventId: 'p1', userId: u, type: 'purchase', itemId: 'c1', amountFen: 1000 }),
      activity({ eventId: 'r1', userId: u, type: 'refund', refundOf: 'p1', amountFen: 600 }),
    ]);
    const over = decideBehavior(
      state,
      activity({ eventId: 'r2', userId: u, type: 'refund', refundOf: 'p1', amountFen: 401 }),
      ctx,
    );
    expect(over.kind === 'rejected' && over.rejection.reason).toBe('refund_exceeds_original');
    const exact = decideBehavior(
      state,
      activity({ eventId: 'r3', userId: u, type: 'refund', refundOf: 'p1', amountFen: 400 }),
      ctx,
    );
    expect(exact.kind).toBe('applied');
    if (exact.kind === 'applied') expect(exact.state.totalSpendFen).toBe(0);
  });
});

describe('behavior-events: profile and outputs', () => {
  it('emits one behavior event with a deterministic id and the profile after it', () => {
    const e = activity({
      eventId: 'p1',
      userId: 'u1',
      type: 'purchase',
      itemId: 'c1',
      amountFen: 1999,
      category: 'history',
    });
    const first = apply([e]);
    const again = apply([e]);
    expect(first.outputs).toEqual(again.outputs);
    expect(first.outputs).toHaveLength(1);
    const out = first.outputs[0]!;
    expect(out.id).toBe('bhv:p1');
    expect(out.key).toBe('u1');
    expect(out.value).toMatchObject({
      type: 'purchase',
      purchaseCount: 1,
      totalSpendFen: 1999,
      stage: 'activation',
      rulesVersion: rules.version,
    });
    expect(first.state.recentCategories).toEqual(['history']);
  });

  it('re-keys the referral to the referrer', () => {
    const { outputs } = apply([activity({ eventId: 's1', userId: 'new', type: 'signup', referrerId: 'old' })]);
    expect(outputs.map((o) => [o.id, o.key, o.value.type])).toEqual([
      ['bhv:s1', 'new', 'signup'],
      ['ref:s1', 'old', 'referral'],
    ]);
    expect(outputs[1]!.value).toMatchObject({ userId: 'old', referredUserId: 'new' });
  });

  it('credits a referrer only for the first signup', () => {
    const first = apply([activity({ eventId: 's1', userId: 'new', type: 'signup', referrerId: 'old' })]);
    const again = decideBehavior(
      first.state,
      activity({ eventId: 's2', userId: 'new', type: 'signup', referrerId: 'other' }),
      ctx,
    );
    expect(again.kind).toBe('applied');
    if (again.kind === 'applied') {
      expect(again.outputs.map((o) => o.id)).toEqual(['bhv:s2']);
      expect(again.state.referrerId).toBe('old');
    }
  });

  it('walks the lifecycle: acquisition → activation → retention → value_add', () => {
    const day = (d: number) => Date.UTC(2026, 0, d, 4);
    const steps = apply([activity({ eventId: 'a', userId: 'u', type: 'signup', occurredAt: day(1) })]);
    expect(steps.state.stage).toBe('acquisition');
    const s2 = apply(
      [activity({ eventId: 'b', userId: 'u', type: 'lesson_complete', itemId: 'l1', occurredAt: day(2) })],
      steps.state,
    );
    expect(s2.state.stage).toBe('activation');
    const s3 = apply(
      [activity({ eventId: 'c', userId: 'u', type: 'content_view', itemId: 'l2', occurredAt: day(3) })],
      s2.state,
    );
    expect(s3.state.activeDays).toBe(3);
    expect(s3.state.stage).toBe('retention');
    expect(s3.state.tags).toContain('active');
    const big = rules.behavior.lifecycle.highValueSpendFen;
    const s4 = apply(
      [activity({ eventId: 'd', userId: 'u', type: 'purchase', itemId: 'x', amountFen: big, occurredAt: day(4) })],
      s3.state,
    );
    expect(s4.state.stage).toBe('value_add');
    expect(s4.state.tags).toContain('high_value');
  });

  it('counts distinct active days in the platform time zone, not UTC', () => {
    // 2026-01-10 15:30 UTC and 16:30 UTC are 23:30 on the 10th and 00:30 on the 11th in Shanghai.
    const { state } = apply([
      activity({ eventId: 'a', userId: 'u', type: 'checkin', occurredAt: Date.UTC(2026, 0, 10, 15, 30) }),
      activity({ eventId: 'b', userId: 'u', type: 'checkin', occurredAt: Date.UTC(2026, 0, 10, 16, 30) }),
      activity({ eventId: 'c', userId: 'u', type: 'checkin', occurredAt: Date.UTC(2026, 0, 10, 16, 45) }),
    ]);
    expect(state.activeDays).toBe(2);
  });

  it('does not count an out-of-order event twice for the same day', () => {
    const { state } = apply([
      activity({ eventId: 'a', userId: 'u', type: 'checkin', occurredAt: Date.UTC(2026, 0, 5, 4) }),
      activity({ eventId: 'b', userId: 'u', type: 'checkin', occurredAt: Date.UTC(2026, 0, 3, 4) }),
      activity({ eventId: 'c', userId: 'u', type: 'checkin', occurredAt: Date.UTC(2026, 0, 5, 8) }),
    ]);
    expect(state.activeDays).toBe(2);
    expect(state.lastActivityAt).toBe(Date.UTC(2026, 0, 5, 8));
    expect(state.firstSeenAt).toBe(Date.UTC(2026, 0, 3, 4));
  });

  it('an annual plan makes a member high value while it runs; a monthly renewal does not shorten it', () => {
    const t = Date.UTC(2026, 0, 1);
    const { state } = apply([
      activity({
        eventId: 'a',
        userId: 'u',
        type: 'subscription',
        plan: 'annual',
        amountFen: 19900,
        periodEnd: t + 365 * 86400000,
        occurredAt: t,
      }),
      activity({
        eventId: 'b',
        userId: 'u',
        type: 'subscription',
        plan: 'monthly',
        amountFen: 1900,
        periodEnd: t + 30 * 86400000,
        occurredAt: t + 1000,
      }),
    ]);
    expect(state.subscription?.plan).toBe('annual');
    expect(state.tags).toContain('high_value');
  });
});
