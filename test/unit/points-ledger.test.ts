import { describe, expect, it } from 'vitest';
import { pointsLogic } from '../../services/points-accrual/decide.js';
import { dueId, expiryFor } from '../../services/points-accrual/due.js';
import { reversedAfter } from '../../services/points-accrual/refunds.js';
import {
  brief,
  cancel,
  dayMs,
  ev,
  last,
  member,
  purchase,
  redeem,
  refund,
  rules,
  run,
  sh,
  withPoints,
  type Step,
} from './points-helpers.js';

const jan10 = sh(2026, 1, 10, 12);
/** 2026-01-10 + 366 local days: the lot is good through 2027-01-10 and expires at its end. */
const jan10Expiry = sh(2027, 1, 11, 0);

describe('points: lots and expiry', () => {
  it('a new member has nothing due', () => {
    expect(pointsLogic.nextDue!(pointsLogic.initialState(member))).toBeNull();
  });

  it('a credit expires at the end of the local day 365 days after it became available', () => {
    expect(expiryFor(jan10, rules)).toBe(jan10Expiry);
    const r = run([purchase('p', 10000, jan10)]);
    expect(r.state.lots).toEqual([{ expiresAt: jan10Expiry, points: 100 }]);
    expect(pointsLogic.nextDue!(r.state)).toBe(jan10Expiry);
  });

  it('credits of one local day share one lot; other days get their own, ordered by expiry', () => {
    const r = run([
      purchase('a', 1000, sh(2026, 1, 10, 1)),
      ev('c', 'comment', sh(2026, 1, 10, 23, 59, 59), { itemId: 'i' }),
      purchase('b', 2000, sh(2026, 1, 11, 0)),
    ]);
    expect(r.state.lots).toEqual([
      { expiresAt: jan10Expiry, points: 15 },
      { expiresAt: jan10Expiry + dayMs, points: 20 },
    ]);
  });

  it('a tick before the expiry does nothing; at the expiry it expires the lot with a due id', () => {
    const r = run([purchase('p', 10000, jan10), { tick: jan10Expiry - 1 }, { tick: jan10Expiry, id: 't1' }]);
    expect(r.perStep[1]).toEqual([]);
    const [e] = r.perStep[2]!;
    expect(e).toMatchObject({
      kind: 'expire',
      points: -100,
      amount: 100,
      occurredAt: jan10Expiry,
      availableAfter: 0,
      reason: 'expired',
      sourceEventId: 't1',
    });
    expect(e!.eventId).toBe(dueId(member, 'expire', jan10Expiry));
    expect(e!.lots).toEqual([{ bucket: 'available', dueAt: jan10Expiry, points: -100 }]);
    expect(pointsLogic.nextDue!(r.state)).toBeNull();
  });

  it('an event after the expiry applies the expiry first: same entry as the tick would give (id included)', () => {
    const viaTick = run([
      purchase('p', 10000, jan10),
      { tick: jan10Expiry + 5 },
      ev('c', 'comment', jan10Expiry + 10, { itemId: 'i' }),
    ]);
    const viaEvent = run([purchase('p', 10000, jan10), ev('c', 'comment', jan10Expiry + 10, { itemId: 'i' })]);
    const strip = (es: typeof viaTick.entries) => es.map(({ sourceEventId: _s, ...rest }) => rest);
    expect(strip(viaEvent.entries)).toEqual(strip(viaTick.entries));
    expect(viaEvent.state).toEqual(viaTick.state);
    expect(brief(viaEvent.perStep[1]!)).toEqual([
      ['expire', -100, 'expired'],
      ['earn', 5, 'base:interaction'],
    ]);
  });

  it('a credit so late it is already past its expiry is earned and expires at once', () => {
    const r = run([ev('c', 'comment', sh(2028, 1, 1), { itemId: 'i' }), purchase('old', 10000, jan10)]);
    expect(brief(r.perStep[1]!)).toEqual([
      ['earn', 100, 'base:payment'],
      ['expire', -100, 'expired'],
    ]);
    expect(r.perStep[1]![1]!.eventId).toBe('pts:bhv:old:expire:1');
    expect(r.state.lots).toEqual([{ expiresAt: expiryFor(sh(2028, 1, 1), rules), points: 5 }]);
  });
});

describe('points: redemption', () => {
  // Lots of three origins and expiries: a referral (Jan; the referrer checked in before it), comments (Mar), a purchase (Feb, arriving last).
  const setup: Step[] = [
    ev('own', 'checkin', sh(2026, 1, 4)),
    ev('ref', 'referral', sh(2026, 1, 5)),
    ...Array.from({ length: 10 }, (_, i) => ev(`c${i}`, 'comment', sh(2026, 3, 1, 9, i), { itemId: 'i' })),
    purchase('p', 20000, sh(2026, 3, 2)),
  ];
  const now = sh(2026, 3, 3);

  it('draws from the lots that expire first, across origins, and records them', () => {
    const r = run([...setup, redeem('x', 100, now)]);
    const spend = last(r.entries);
    expect(spend).toMatchObject({ kind: 'spend', points: -100, amount: 100, availableAfter: 200, reason: 'redeem' });
    expect(spend.lots).toEqual([
      { bucket: 'available', dueAt: expiryFor(sh(2026, 1, 5), rules), points: -50 },
      { bucket: 'available', dueAt: expiryFor(sh(2026, 3, 1), rules), points: -50 },
    ]);
    expect(r.state.redemptions).toEqual([
      {
        id: 'x',
        at: now,
        draws: [
          [expiryFor(sh(2026, 1, 5), rules), 50],
          [expiryFor(sh(2026, 3, 1), rules), 50],
        ],
        cancelled: false,
      },
    ]);
  });

  const before = run(
    setup
      .map((s) => ('tick' in s ? s : { ...s, occurredAt: Math.min(s.occurredAt, now) }))
      .concat([ev('k', 'checkin', now)]),
  );
  it.each([
    ['0 points', redeem('x', 0, now), 'invalid_redeem_amount', 0],
    ['no points field', redeem('x', null, now), 'invalid_redeem_amount', 0],
    ['150: not a multiple of 100', redeem('x', 150, now), 'invalid_redeem_amount', 150],
    ['-100', redeem('x', -100, now), 'invalid_redeem_amount', 0],
    ['more than the balance', redeem('x', 400, now), 'insufficient_points', 400],
    ['a cancel of an unknown redemption', cancel('y', 'nope', now), 'redemption_unknown', 0],
  ])('refuses %s with a refuse entry and changes nothing else', (_n, event, reason, amount) => {
    const d = pointsLogic.decide(before.state, event, {
      rules,
      record: { timestamp: now, sizeBytes: 1, topic: 'test', partition: 0, offset: '0' },
    });
    if (d.kind !== 'applied') throw new Error('rejected');
    expect(d.state).toEqual(before.state);
    expect(d.outputs.map((o) => o.value)).toEqual([
      expect.objectContaining({ kind: 'refuse', points: 0, amount, reason, lots: [], availableAfter: 300 }),
    ]);
  });

  it('a cancel puts the points back into the same lots; a second cancel is refused and changes nothing', () => {
    const r = run([...setup, redeem('x', 100, now), cancel('y', 'x', now + 1), cancel('z', 'x', now + 2)]);
    const [restore] = r.perStep.at(-2)!;
    expect(restore).toMatchObject({
      kind: 'restore',
      points: 100,
      availableAfter: 300,
      relatedEventId: 'x',
      reason: 'redeem_cancel',
    });
    expect(r.state.lots).toEqual(run(setup).state.lots);
    expect(brief(r.perStep.at(-1)!)).toEqual([['refuse', 0, 'redemption_already_cancelled']]);
  });

  it('a cancel after one of its lots expired restores into the live lot and expires the rest at once', () => {
    const refExpiry = expiryFor(sh(2026, 1, 5), rules);
    const r = run([
      ...setup,
      redeem('x', 100, refExpiry - 10 * dayMs),
      { tick: refExpiry },
      cancel('y', 'x', refExpiry + 1000),
    ]);
    expect(r.perStep.at(-2)).toEqual([]); // the referral lot was emptied by the spend: nothing to expire
    const out = r.perStep.at(-1)!;
    expect(brief(out)).toEqual([
      ['restore', 100, 'redeem_cancel'],
      ['expire', -50, 'restored_into_expired_lot'],
    ]);
    expect(out[1]!.lots).toEqual([{ bucket: 'available', dueAt: refExpiry, points: -50 }]);
    expect(out[1]!.availableAfter).toBe(250);
    expect(r.state.lots.find((l) => l.expiresAt === expiryFor(sh(2026, 3, 1), rules))?.points).toBe(50);
  });

  it('a redemption stays cancellable for redemptionCancelDays (90), then is unknown', () => {
    const inWindow = run([...setup, redeem('x', 100, now), cancel('y', 'x', now + 90 * dayMs - 1)]);
    expect(last(inWindow.entries).kind).toBe('restore');
    const late = run([...setup, redeem('x', 100, now), cancel('y', 'x', now + 90 * dayMs)]);
    expect(brief([last(late.entries)])).toEqual([['refuse', 0, 'redemption_unknown']]);
    expect(late.state.redemptions).toEqual([]);
  });
});

describe('points: refunds', () => {
  it('rounds pro rata down and never takes back more than was earned across partial refunds', () => {
    expect(reversedAfter(9, 500, 999)).toBe(4);
    expect(reversedAfter(9, 999, 999)).toBe(9);
    const r = run([
      purchase('p', 10000, jan10),
      refund('r1', 'p', 3333, jan10 + 1),
      refund('r2', 'p', 3333, jan10 + 2),
      refund('r3', 'p', 3334, jan10 + 3),
    ]);
    expect(r.perStep.slice(1).map((s) => s.map((e) => e.points))).toEqual([[-33], [-33], [-34]]);
    expect(r.state.lots).toEqual([]);
    const over = pointsLogic.decide(r.state, refund('r4', 'p', 1, jan10 + 4), {
      rules,
      record: { timestamp: 0, sizeBytes: 1, topic: 'test', partition: 0, offset: '0' },
    });
    if (over.kind !== 'applied') throw new Error('rejected');
    expect(over.outputs.map((o) => [o.value.kind, o.value.reason])).toEqual([['refuse', 'refund_exceeds_original']]);
    expect(over.state).toEqual({ ...r.state, clock: jan10 + 4 });
  });

  it('a small partial refund that reverses 0 points emits nothing but is counted', () => {
    const r = run([purchase('p', 999, jan10), refund('r1', 'p', 100, jan10 + 1), refund('r2', 'p', 899, jan10 + 2)]);
    expect(r.perStep.map((s) => s.map((e) => e.points))).toEqual([[9], [], [-9]]);
  });

  it.each([
    ['above the original', refund('r', 'p', 10001, jan10 + 1), 'refund_exceeds_original'],
    ['of an unknown original', refund('r', 'other', 100, jan10 + 1), 'refund_without_credit'],
    ['without an amount', ev('r', 'refund', jan10 + 1, { refundOf: 'p' }), 'invalid_refund_amount'],
  ])('refuses a refund %s with a refuse entry and changes nothing else', (_n, event, reason) => {
    const base = run([purchase('p', 10000, jan10), ev('k', 'checkin', jan10 + 1)]);
    const d = pointsLogic.decide(base.state, event, {
      rules,
      record: { timestamp: 0, sizeBytes: 1, topic: 'test', partition: 0, offset: '0' },
    });
    if (d.kind !== 'applied') throw new Error('rejected');
    expect(d.state).toEqual(base.state);
    expect(d.outputs.map((o) => [o.value.kind, o.value.points, o.value.reason, o.value.relatedEventId])).toEqual([
      ['refuse', 0, reason, event.refundOf],
    ]);
  });

  it("takes back a member-day bonus with the base, from the refunded purchase's own lot first", () => {
    const r = run([
      purchase('a', 10000, sh(2026, 1, 5)),
      purchase('b', 5000, sh(2026, 1, 18)),
      refund('r', 'b', 5000, sh(2026, 1, 20)),
    ]);
    const rev = last(r.entries);
    expect(rev).toMatchObject({ kind: 'reverse', points: -100, relatedEventId: 'b', reason: 'refund' });
    expect(rev.lots).toEqual([{ bucket: 'available', dueAt: expiryFor(sh(2026, 1, 18), rules), points: -100 }]);
    expect(r.state.lots).toEqual([{ expiresAt: expiryFor(sh(2026, 1, 5), rules), points: 100 }]);
  });

  it('after a spend the balance goes into debt; later credits repay it before anything else', () => {
    const r = run([
      purchase('p', 20000, jan10),
      redeem('x', 200, jan10 + 1),
      refund('r', 'p', 20000, jan10 + 2),
      redeem('y', 100, jan10 + 3),
      purchase('q', 15000, jan10 + 4),
      ev('c', 'comment', jan10 + 5, { itemId: 'i' }),
      purchase('s', 10000, jan10 + 6),
    ]);
    expect(r.perStep[2]!.map((e) => [e.kind, e.points, e.availableAfter, e.debtAfter])).toEqual([
      ['debt', -200, 0, 200],
    ]);
    expect(brief(r.perStep[3]!)).toEqual([['refuse', 0, 'insufficient_points']]);
    expect(
      r.perStep.slice(4).map((s) => s.map((e) => [e.kind, e.points, e.availableAfter, e.debtAfter, e.lots.length])),
    ).toEqual([[['earn', 150, 0, 50, 0]], [['earn', 5, 0, 45, 0]], [['earn', 100, 55, 0, 1]]]);
  });

  it('a partial refund takes what is left and owes the rest', () => {
    const r = run([purchase('p', 20000, jan10), redeem('x', 100, jan10 + 1), refund('r', 'p', 20000, jan10 + 2)]);
    expect(r.perStep[2]!.map((e) => [e.kind, e.points, e.availableAfter, e.debtAfter])).toEqual([
      ['reverse', -100, 0, 0],
      ['debt', -100, 0, 100],
    ]);
  });
});

describe('points: pending period', () => {
  const r7 = withPoints({ pendingDays: 7 });
  const availableAt = sh(2026, 1, 18, 0); // end of the 7th local day after Jan 10

  it('purchases wait out the window (expiry counts from availability); interactions do not', () => {
    const r = run(
      [
        purchase('p', 10000, jan10),
        ev('c', 'comment', jan10, { itemId: 'i' }),
        redeem('x', 100, jan10 + 1),
        { tick: availableAt, id: 't' },
      ],
      r7,
    );
    expect(r.perStep[0]!.map((e) => [e.kind, e.points, e.pendingAfter, e.availableAfter])).toEqual([
      ['pending', 100, 100, 0],
    ]);
    expect(r.perStep[0]![0]!.lots).toEqual([{ bucket: 'pending', dueAt: availableAt, points: 100 }]);
    expect(brief(r.perStep[2]!)).toEqual([['refuse', 0, 'insufficient_points']]);
    const [avail] = r.perStep[3]!;
    expect(avail).toMatchObject({
      kind: 'available',
      points: 0,
      amount: 100,
      pendingAfter: 0,
      availableAfter: 105,
      eventId: dueId(member, 'available', availableAt),
    });
    expect(avail!.lots).toEqual([
      { bucket: 'pending', dueAt: availableAt, points: -100 },
      { bucket: 'available', dueAt: expiryFor(availableAt, r7), points: 100 },
    ]);
  });

  it('at one instant, pending points become available before a lot expires (deterministic order)', () => {
    const r = withPoints({ pendingDays: 7, expiryDays: 8 });
    const t = sh(2026, 1, 19, 0); // comment on the 10th expires, purchase of the 11th becomes available
    const res = run(
      [ev('c', 'comment', jan10, { itemId: 'i' }), purchase('p', 10000, sh(2026, 1, 11)), { tick: t }],
      r,
    );
    expect(res.perStep[2]!.map((e) => [e.kind, e.occurredAt, e.availableAfter])).toEqual([
      ['available', t, 105],
      ['expire', t, 100],
    ]);
  });

  it('a refund within the window cancels pending points first', () => {
    const r = run(
      [
        purchase('p', 10000, jan10),
        purchase('q', 5000, jan10 + 1),
        refund('r', 'p', 4000, jan10 + 2),
        refund('s', 'p', 6000, jan10 + 3),
        { tick: availableAt },
      ],
      r7,
    );
    expect(r.perStep[2]!.map((e) => [e.kind, e.points, e.pendingAfter])).toEqual([['reverse', -40, 110]]);
    expect(r.perStep[2]![0]!.lots).toEqual([{ bucket: 'pending', dueAt: availableAt, points: -40 }]);
    expect(r.perStep[3]!.map((e) => [e.kind, e.points, e.pendingAfter])).toEqual([['reverse', -60, 50]]);
    expect(r.perStep[4]!.map((e) => [e.kind, e.amount, e.availableAfter])).toEqual([['available', 50, 50]]);
  });

  it('pending points becoming available repay debt first', () => {
    const r = run(
      [
        purchase('a', 10000, sh(2025, 12, 1)),
        redeem('x', 100, sh(2026, 1, 1)),
        purchase('p', 20000, jan10),
        refund('r', 'a', 10000, jan10 + 1),
        { tick: availableAt },
      ],
      r7,
    );
    expect(r.perStep[3]!.map((e) => [e.kind, e.debtAfter])).toEqual([['debt', 100]]);
    expect(r.perStep[4]!.map((e) => [e.kind, e.availableAfter, e.debtAfter])).toEqual([['available', 100, 0]]);
  });
});

describe('points: qualifying points (rolling 365 days)', () => {
  it('counts credits minus reversals; spending and expiry do not lower it; old days leave the window', () => {
    const r = run([
      purchase('a', 10000, jan10),
      purchase('b', 5000, jan10 + 1),
      redeem('x', 100, jan10 + 2),
      refund('r', 'b', 5000, jan10 + 3),
      { tick: jan10Expiry },
      ev('k', 'comment', jan10Expiry + 1, { itemId: 'i' }),
    ]);
    expect(r.entries.map((e) => [e.kind, e.qualifyingPoints])).toEqual([
      ['earn', 100],
      ['earn', 150],
      ['spend', 150],
      ['reverse', 100],
      ['earn', 5],
    ]);
  });
});
