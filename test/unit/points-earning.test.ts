import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parseRules } from '../../shared/config/rules.js';
import { localParts, periodKey, startOfLocalDay, weekIndex } from '../../shared/util/calendar.js';
import { localDay } from '../../shared/util/time.js';
import { multiplierFor } from '../../services/points-accrual/earning.js';
import { brief, ev, purchase, rules, run, sh, withPoints } from './points-helpers.js';

describe('points: calendar in the platform zone', () => {
  it('reads wall-clock fields in Asia/Shanghai from instants', () => {
    expect(localParts(Date.UTC(2026, 10, 17, 16, 0, 0), 'Asia/Shanghai')).toEqual({
      year: 2026,
      month: 11,
      day: 18,
      hour: 0,
      minute: 0,
      second: 0,
    });
    expect(localParts(Date.UTC(2026, 10, 17, 15, 59, 59), 'Asia/Shanghai').day).toBe(17);
  });

  it('finds the start of a local day, also across a DST change', () => {
    const d = localDay(sh(2026, 11, 18), 'Asia/Shanghai');
    expect(startOfLocalDay(d, 'Asia/Shanghai')).toBe(sh(2026, 11, 18, 0));
    // New York, 2026-03-08 (spring forward at 02:00): the day starts at 05:00Z, the next at 04:00Z.
    const ny = localDay(Date.UTC(2026, 2, 8, 12), 'America/New_York');
    expect(startOfLocalDay(ny, 'America/New_York')).toBe(Date.UTC(2026, 2, 8, 5));
    expect(startOfLocalDay(ny + 1, 'America/New_York')).toBe(Date.UTC(2026, 2, 9, 4));
  });

  it('numbers weeks from Monday and months from 1970-01', () => {
    const mon = localDay(sh(2026, 11, 23), 'Asia/Shanghai'); // a Monday
    expect(weekIndex(mon)).toBe(weekIndex(mon + 6));
    expect(weekIndex(mon - 1)).toBe(weekIndex(mon) - 1);
    expect(
      periodKey('month', sh(2026, 12, 1, 0), 'Asia/Shanghai') -
        periodKey('month', sh(2026, 11, 30, 23, 59, 59), 'Asia/Shanghai'),
    ).toBe(1);
    expect(periodKey('forever', 0, 'UTC')).toBe(0);
  });
});

describe('points: base earning', () => {
  const at = sh(2026, 11, 10);
  it.each([
    ['purchase of 199.99 yuan → 199 (floor)', purchase('p', 19999, at), [['earn', 199, 'base:payment']]],
    ['purchase under a yuan → nothing', purchase('p', 99, at), []],
    [
      'subscription of 300 yuan → 300',
      ev('s', 'subscription', at, { amountFen: 30000, plan: 'annual', periodEnd: at + 1 }),
      [['earn', 300, 'base:payment']],
    ],
    ['comment → 5', ev('c', 'comment', at, { itemId: 'i' }), [['earn', 5, 'base:interaction']]],
    ['share → 5', ev('c', 'share', at, { itemId: 'i' }), [['earn', 5, 'base:interaction']]],
    ['checkin → nothing by default', ev('k', 'checkin', at), []],
    ['lesson_complete → nothing by default', ev('l', 'lesson_complete', at, { itemId: 'i' }), []],
    ['signup → nothing by default', ev('g', 'signup', at), []],
  ])('%s', (_n, event, expected) => {
    expect(brief(run([event]).entries)).toEqual(expected);
  });

  it('caps interaction awards at 10 per Shanghai day; the 11th earns nothing, the next local day counts again', () => {
    // 15:59:59Z and 16:00:00Z are one UTC day but two Shanghai days.
    const steps = [
      ...Array.from({ length: 11 }, (_, i) =>
        ev(`c${i}`, i % 2 ? 'share' : 'comment', Date.UTC(2026, 10, 10, 5 + i, 0, 0) - 0, { itemId: 'i' }),
      ),
      ev('late-day', 'comment', Date.UTC(2026, 10, 10, 15, 59, 59), { itemId: 'i' }),
      ev('next-day', 'comment', Date.UTC(2026, 10, 10, 16, 0, 0), { itemId: 'i' }),
    ];
    const r = run(steps);
    expect(r.perStep.map((s) => s.length)).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1]);
    expect(r.state.lots.reduce((t, l) => t + l.points, 0)).toBe(55);
  });

  it('a cap of 0 awards nothing; a late interaction counts against its own day', () => {
    expect(
      run([ev('c', 'comment', sh(2026, 11, 10), { itemId: 'i' })], withPoints({ interactionDailyCap: 0 })).entries,
    ).toEqual([]);
    const full = Array.from({ length: 10 }, (_, i) => ev(`a${i}`, 'comment', sh(2026, 11, 10, 9, i), { itemId: 'i' }));
    const r = run([
      ...full,
      ev('b', 'comment', sh(2026, 11, 11, 9), { itemId: 'i' }),
      ev('late', 'comment', sh(2026, 11, 10, 23), { itemId: 'i' }),
    ]);
    expect(r.perStep.slice(-2).map((s) => s.length)).toEqual([1, 0]);
  });
});

describe('points: operator rules (types, categories, tiers, usage limits)', () => {
  const r = parseRules(
    {
      ...rules,
      points: {
        ...rules.points,
        earningRules: [
          {
            id: 'history-lessons',
            eventTypes: ['lesson_complete'],
            categories: ['history'],
            fixedPoints: 3,
            limits: [{ period: 'week', maxAwards: 2 }],
          },
          { id: 'gold-checkin', eventTypes: ['checkin'], tiers: ['gold'], fixedPoints: 7 },
          {
            id: 'first-checkin',
            eventTypes: ['checkin'],
            fixedPoints: 20,
            limits: [{ period: 'forever', maxAwards: 1 }],
          },
          {
            id: 'monthly-view',
            eventTypes: ['content_view'],
            fixedPoints: 1,
            limits: [
              { period: 'month', maxAwards: 1 },
              { period: 'day', maxAwards: 5 },
            ],
          },
          { id: 'big-spender', eventTypes: ['purchase'], categories: ['premium'], pointsPerYuan: 1 },
        ],
      },
    },
    'test',
  );
  const lesson = (id: string, at: number, category: string | null) =>
    ev(id, 'lesson_complete', at, { itemId: 'l', category });

  it('targets categories and counts a weekly limit from Monday (Shanghai)', () => {
    const res = run(
      [
        lesson('l1', sh(2026, 11, 23, 9), 'history'), // Monday
        lesson('l2', sh(2026, 11, 24, 9), 'art'),
        lesson('l3', sh(2026, 11, 25, 9), 'history'),
        lesson('l4', sh(2026, 11, 29, 23, 59, 59), 'history'), // Sunday: week full
        lesson('l5', sh(2026, 11, 30, 0), 'history'), // next Monday
        lesson('l6', sh(2026, 11, 30, 1), null),
      ],
      r,
    );
    expect(res.perStep.map((s) => brief(s))).toEqual([
      [['earn', 3, 'history-lessons']],
      [],
      [['earn', 3, 'history-lessons']],
      [],
      [['earn', 3, 'history-lessons']],
      [],
    ]);
  });

  it('a tier condition matches nothing until events carry a tier', () => {
    const plain = run([ev('k1', 'checkin', sh(2026, 11, 10))], r);
    expect(brief(plain.entries)).toEqual([['earn', 20, 'first-checkin']]);
    const tiered = run(
      [
        { ...ev('k1', 'checkin', sh(2026, 11, 10)), tier: 'gold' } as never,
        { ...ev('k2', 'checkin', sh(2026, 11, 11)), tier: 'silver' } as never,
      ],
      r,
    );
    expect(tiered.perStep.map(brief)).toEqual([
      [
        ['earn', 7, 'gold-checkin'],
        ['earn', 20, 'first-checkin'],
      ],
      [],
    ]);
  });

  it('forever and monthly limits', () => {
    const res = run(
      [
        ev('k1', 'checkin', sh(2026, 1, 1)),
        ev('k2', 'checkin', sh(2027, 1, 1)),
        ev('v1', 'content_view', sh(2026, 11, 30, 23), { itemId: 'i' }),
        ev('v2', 'content_view', sh(2026, 11, 30, 23, 30), { itemId: 'i' }),
        ev('v3', 'content_view', sh(2026, 12, 1, 0), { itemId: 'i' }),
      ],
      r,
    );
    expect(res.perStep.map((s) => s.length)).toEqual([1, 0, 1, 0, 1]);
  });

  it('every matching rule awards: base payment plus a category rule', () => {
    const res = run([ev('p', 'purchase', sh(2026, 11, 10), { amountFen: 5000, itemId: 'i', category: 'premium' })], r);
    expect(brief(res.entries)).toEqual([
      ['earn', 50, 'base:payment'],
      ['earn', 50, 'big-spender'],
    ]);
  });

  it('refuses a rules file with a campaign ending before it starts or a bad instant', () => {
    const bad = (c: unknown) => () => parseRules({ ...rules, points: { ...rules.points, campaigns: [c] } }, 'x.json');
    expect(bad({ id: 'x', startsAt: 10, endsAt: 5, multiplier: 2 })).toThrow(/campaigns/);
    expect(bad({ id: 'x', startsAt: '2026-11-01T00:00:00', endsAt: 5, multiplier: 2 })).toThrow(/campaigns/);
  });
});

describe('points: member day and campaigns (event time, Asia/Shanghai)', () => {
  const purchaseAt = (at: number) => run([purchase('p', 10000, at)]).entries;
  it.each([
    [
      '17th 23:59:59 Shanghai (15:59:59Z): not doubled',
      Date.UTC(2026, 10, 17, 15, 59, 59),
      [['earn', 100, 'base:payment']],
    ],
    [
      '18th 00:00:00 Shanghai (16:00:00Z on the 17th UTC): doubled',
      Date.UTC(2026, 10, 17, 16, 0, 0),
      [
        ['earn', 100, 'base:payment'],
        ['bonus', 100, 'member_day'],
      ],
    ],
    [
      '18th 23:59:59 Shanghai (the 18th UTC): doubled',
      Date.UTC(2026, 10, 18, 15, 59, 59),
      [
        ['earn', 100, 'base:payment'],
        ['bonus', 100, 'member_day'],
      ],
    ],
    [
      '19th 00:00:00 Shanghai (still the 18th UTC): not doubled',
      Date.UTC(2026, 10, 18, 16, 0, 0),
      [['earn', 100, 'base:payment']],
    ],
  ])('%s', (_n, at, expected) => {
    expect(brief(purchaseAt(at))).toEqual(expected);
  });

  it('decides the same whatever the process time zone is (child processes with TZ set)', () => {
    const script = [
      "import { multiplierFor } from './services/points-accrual/earning.ts';",
      "import { defaultRules } from './shared/config/rules.ts';",
      'const r = defaultRules();',
      "const at = (t) => multiplierFor({ type: 'purchase', occurredAt: t }, r).factor;",
      'console.log(JSON.stringify([at(Date.UTC(2026, 10, 17, 15, 59, 59)), at(Date.UTC(2026, 10, 17, 16)), ' +
        'at(Date.UTC(2026, 10, 18, 15, 59, 59)), at(Date.UTC(2026, 10, 18, 16))]));',
    ].join('\n');
    for (const tz of ['UTC', 'America/Los_Angeles', 'Pacific/Kiritimati', 'Asia/Shanghai']) {
      const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        env: { ...process.env, TZ: tz },
        cwd: process.cwd(),
        encoding: 'utf8',
      });
      expect(JSON.parse(out.trim()), tz).toEqual([1, 2, 2, 1]);
    }
  }, 30_000);

  it('a dayOfMonth a month lacks means no member day that month', () => {
    const r = withPoints({ memberDay: { dayOfMonth: 31, multiplier: 2 } });
    expect(multiplierFor(ev('x', 'purchase', sh(2026, 11, 30)), r).factor).toBe(1);
    expect(multiplierFor(ev('x', 'purchase', sh(2026, 12, 31)), r).factor).toBe(2);
  });

  it('campaigns: half-open window, event types, multiplied with member day', () => {
    const r = parseRules(
      {
        ...rules,
        points: {
          ...rules.points,
          campaigns: [
            {
              id: 'double11',
              startsAt: '2026-11-11T00:00:00+08:00',
              endsAt: '2026-11-20T00:00:00+08:00',
              eventTypes: ['purchase'],
              multiplier: 3,
            },
          ],
        },
      },
      'test',
    );
    const one = (e: ReturnType<typeof ev>) => brief(run([e], r).entries);
    expect(one(purchase('a', 1000, sh(2026, 11, 10, 23, 59, 59)))).toEqual([['earn', 10, 'base:payment']]);
    expect(one(purchase('b', 1000, sh(2026, 11, 11, 0)))).toEqual([
      ['earn', 10, 'base:payment'],
      ['bonus', 20, 'campaign:double11'],
    ]);
    expect(one(purchase('c', 1000, sh(2026, 11, 18, 9)))).toEqual([
      ['earn', 10, 'base:payment'],
      ['bonus', 50, 'member_day+campaign:double11'],
    ]);
    expect(one(ev('d', 'comment', sh(2026, 11, 12), { itemId: 'i' }))).toEqual([['earn', 5, 'base:interaction']]);
    expect(one(purchase('e', 1000, sh(2026, 11, 20, 0)))).toEqual([['earn', 10, 'base:payment']]);
  });

  it('member day doubles interactions and referrals too; the cap counts awards, not points', () => {
    const at = sh(2026, 11, 18, 10);
    expect(brief(run([ev('c', 'comment', at, { itemId: 'i' }), ev('r', 'referral', at)]).entries)).toEqual([
      ['earn', 5, 'base:interaction'],
      ['bonus', 5, 'member_day'],
      ['earn', 50, 'base:referral'],
      ['bonus', 50, 'member_day'],
    ]);
  });
});

describe("points: referral abuse controls, on the referrer's own state", () => {
  const day = sh(2026, 11, 10, 9);
  const own = ev('own', 'checkin', day - 3_600_000);
  const referral = (id: string, at: number, referred = `new-${id}`) =>
    ev(id, 'referral', at, { referredUserId: referred });
  const reasonsOf = (entries: ReturnType<typeof run>['entries']) => entries.map((e) => [e.kind, e.points, e.reason]);

  it('pays a referrer active before the referral: 50 to the referrer (userId)', () => {
    expect(brief(run([own, referral('r', day)]).entries)).toEqual([['earn', 50, 'base:referral']]);
  });

  const strict = {
    ...rules,
    points: { ...rules.points, referrals: { ...rules.points.referrals, requireEarlierActivity: true } },
  };

  it('with requireEarlierActivity (off by default), refuses with referrer_inactive a referrer with no own activity at or before the referral', () => {
    expect(brief(run([referral('r', day)]).entries)).toEqual([['earn', 50, 'base:referral']]);
    expect(reasonsOf(run([referral('r', day)], strict).entries)).toEqual([['refuse', 0, 'referrer_inactive']]);
    // Activity only after the referral's time does not count either.
    expect(reasonsOf(run([ev('later', 'checkin', day + 1), referral('r', day)], strict).entries)).toEqual([
      ['refuse', 0, 'referrer_inactive'],
    ]);
    expect(brief(run([own, referral('r', day)], strict).entries)).toEqual([['earn', 50, 'base:referral']]);
  });

  it('refuses, with referral_cycle, a referral whose new member referred this referrer before', () => {
    const mySignup = ev('sign', 'signup', day - 86_400_000, { referrerId: 'friend' });
    const r = run([mySignup, referral('back', day, 'friend'), referral('other', day, 'someone')]);
    expect(reasonsOf(r.entries)).toEqual([
      ['refuse', 0, 'referral_cycle'],
      ['earn', 50, 'base:referral'],
    ]);
    expect(r.state.referredBy).toBe('friend');
    const off = {
      ...rules,
      points: { ...rules.points, referrals: { ...rules.points.referrals, refuseCycles: false } },
    };
    expect(brief(run([mySignup, referral('back', day, 'friend')], off).entries)).toEqual([
      ['earn', 50, 'base:referral'],
    ]);
  });

  it('pays at most paidPerDay referrals per local day, refused ones not counted; the next local day counts again', () => {
    const five = Array.from({ length: 5 }, (_, i) => referral(`r${i}`, day + i));
    const r = run(
      [
        own,
        referral('early', day - 7_200_000),
        ...five,
        referral('sixth', day + 10),
        referral('next', sh(2026, 11, 11, 0)),
      ],
      strict,
    );
    const kinds = reasonsOf(r.entries);
    // 'early' predates the referrer's own activity: refused, and not counted against the cap.
    expect(kinds[0]).toEqual(['refuse', 0, 'referrer_inactive']);
    expect(kinds.slice(1, 6)).toEqual(Array.from({ length: 5 }, () => ['earn', 50, 'base:referral']));
    expect(kinds[6]).toEqual(['refuse', 0, 'referral_daily_cap']);
    expect(kinds[7]).toEqual(['earn', 50, 'base:referral']);
  });

  it('a refused referral changes nothing but its refuse entry, and names the signup it came from', () => {
    const before = run([own], strict).state;
    const r = run([referral('r', day - 86_400_000)], strict, before);
    expect(r.state).toEqual(before);
    expect(r.entries[0]).toMatchObject({ kind: 'refuse', relatedEventId: 'r', availableAfter: 0 });
  });
});
