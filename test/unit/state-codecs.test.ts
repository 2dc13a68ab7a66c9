import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Rules } from '../../shared/config/rules.js';
import type { OutputEvent, StateCodec } from '../../shared/kernel/types.js';
import { pointsStateCodec } from '../../services/points-accrual/codec.js';
import { pointsLogic } from '../../services/points-accrual/decide.js';
import { pointsAccrualWorker } from '../../services/points-accrual/worker.js';
import { initialPointsState, type PointsState } from '../../services/points-accrual/state.js';
import type { ItemUpdateValue } from '../../services/recommendations/inputs.js';
import { recoItemStateCodec } from '../../services/recommendations/item-codec.js';
import {
  decideRecoItem,
  emptyRecoItemState,
  recoItemsLogic,
  type RecoItemState,
} from '../../services/recommendations/item-logic.js';
import { recoItemsWorker } from '../../services/recommendations/worker.js';
import { profileCodec } from '../../services/behavior-events/codec.js';
import { behaviorLogic, decideBehavior } from '../../services/behavior-events/decide.js';
import { newProfile, type MemberProfile, type ProfileTag } from '../../services/behavior-events/profile.js';
import { behaviorEventsWorker } from '../../services/behavior-events/worker.js';
import { activity } from './fixtures.js';
import {
  busyThreeYears,
  dayMs,
  ev,
  member,
  pointsOp,
  propertyRuleSets,
  purchase,
  redeem,
  rules,
  sh,
  stepsFrom,
  withPoints,
  type PointsOp,
  type Step,
} from './points-helpers.js';

/** Round trip (deep, strict: null stays null, no undefined appears), determinism, and the text is a fixed point. */
function checkRoundTrip<S>(codec: StateCodec<S>, s: S): string {
  const text = codec.encode(s);
  const back = codec.decode(text);
  expect(back).toStrictEqual(s);
  expect(codec.encode(s)).toBe(text);
  expect(codec.encode(back)).toBe(text);
  // The size cap trusts the bound to skip the encoding: it must never be under the real size.
  if (codec.sizeBound)
    expect(codec.sizeBound(s, Number.POSITIVE_INFINITY)).toBeGreaterThanOrEqual(Buffer.byteLength(text));
  return text;
}

/** Any UTF-16 code unit (lone surrogates included) plus characters JSON must escape. */
const anyText = fc.string({
  unit: fc.oneof(
    fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
    fc.constantFrom('"', '\\', '\u2028', '\u0000', '{', '[', '😀'),
  ),
  maxLength: 8,
});
/** States are plain objects (as JSON.parse makes them): no null-prototype records. */
const plain = { noNullPrototype: true } as const;
const nastyIds = [
  '',
  '"',
  '\\',
  '{',
  '[1]',
  '\u0000',
  '\u2028\u2029',
  '\ud800',
  '\udfff',
  '😀',
  'é',
  'e\u0301',
  '规则',
  '12',
  'null',
  '__proto__',
];

// ---------------------------------------------------------------- points-accrual

const pointsRuleSets: Rules[] = [
  ...propertyRuleSets,
  // Day starts at half hours (unit 1 min) and with DST (days of 23 and 25 hours).
  { ...withPoints({ pendingDays: 2 }), timeZone: 'Asia/Kolkata' },
  { ...withPoints({ pendingDays: 1, expiryDays: 30 }), timeZone: 'America/New_York' },
];

/** Steps as in points-properties.test.ts, with ids that start with `prefix` (any characters). */
const pointsSteps = (ops: PointsOp[], prefix: string, withLate: boolean): Step[] => stepsFrom(ops, withLate, prefix);

/**
 * The states after each step through pointsLogic (a tick reaches the member only once due,
 * as in the kernel). With `reload`, each state goes through the codec before the next step,
 * as it does when the kernel stores it in Redis and reads it back.
 */
function pointsRun(steps: Step[], r: Rules, reload: boolean): { states: PointsState[]; outputs: OutputEvent[] } {
  let state = initialPointsState();
  const states: PointsState[] = [];
  const outputs: OutputEvent[] = [];
  steps.forEach((s, i) => {
    if ('tick' in s) {
      const due = pointsLogic.nextDue!(state);
      if (due === null || s.tick < due) return;
    }
    const d =
      'tick' in s
        ? pointsLogic.onTick!(state, member, { rules: r, time: s.tick, tickId: s.id ?? `tick:${i}`, offset: String(i) })
        : pointsLogic.decide(state, s, {
            rules: r,
            record: { timestamp: s.occurredAt, sizeBytes: 100, topic: 'test', partition: 0, offset: '0' },
          });
    if (d.kind !== 'applied') throw new Error(`rejected: ${d.rejection.reason}`);
    outputs.push(...d.outputs);
    states.push(d.state);
    state = reload ? pointsStateCodec.decode(pointsStateCodec.encode(d.state)) : d.state;
  });
  return { states, outputs };
}

const prefixes = fc.oneof(
  fc.constant('e'),
  fc.uuid().map((u) => `${u}:`),
  anyText,
);

describe('points-accrual state codec', () => {
  it('is the worker’s storage encoding', () => {
    expect(pointsLogic.stateCodec).toBe(pointsStateCodec);
    expect(pointsAccrualWorker.stateCodec).toBe(pointsStateCodec);
  });

  it('property: every state reached by random event and tick sequences round-trips, and encodes smaller than JSON', () => {
    let credits = 0;
    let refunded = 0;
    let pendingCredits = 0;
    let redemptions = 0;
    fc.assert(
      fc.property(
        fc.array(pointsOp, { minLength: 1, maxLength: 60, size: 'max' }),
        fc.integer({ min: 0, max: pointsRuleSets.length - 1 }),
        fc.boolean(),
        prefixes,
        (ops, ri, late, prefix) => {
          for (const s of pointsRun(pointsSteps(ops, prefix, late), pointsRuleSets[ri]!, false).states) {
            const text = checkRoundTrip(pointsStateCodec, s);
            expect(text.startsWith('[')).toBe(true);
            expect(text.length).toBeLessThan(JSON.stringify(s).length);
            credits += s.credits.length;
            refunded += s.credits.filter((c) => c.refundedFen > 0).length;
            pendingCredits += s.credits.filter((c) => c.availableAt !== null).length;
            redemptions += s.redemptions.length;
          }
        },
      ),
      { numRuns: 150 },
    );
    // The optional credit fields and the redemptions were exercised, not only the defaults.
    expect(Math.min(credits, refunded, pendingCredits, redemptions)).toBeGreaterThan(50);
  });

  it('property: storing and reloading the state through the codec after every step changes no output and no state', () => {
    fc.assert(
      fc.property(
        fc.array(pointsOp, { minLength: 1, maxLength: 60, size: 'max' }),
        fc.integer({ min: 0, max: pointsRuleSets.length - 1 }),
        fc.boolean(),
        prefixes,
        (ops, ri, late, prefix) => {
          const steps = pointsSteps(ops, prefix, late);
          expect(pointsRun(steps, pointsRuleSets[ri]!, true)).toStrictEqual(
            pointsRun(steps, pointsRuleSets[ri]!, false),
          );
        },
      ),
      { numRuns: 80 },
    );
  });

  const credit = (id: string, over: Partial<PointsState['credits'][number]> = {}): PointsState['credits'][number] => ({
    id,
    amountFen: 12_345,
    refundedFen: 0,
    earned: 123,
    reversed: 0,
    pending: 0,
    availableAt: null,
    expiresAt: sh(2027, 1, 2, 0),
    ...over,
  });

  it('edge cases: empty state, unicode ids, null against 0, optional fields set one at a time, cancelled redemptions', () => {
    const empty = initialPointsState();
    expect(checkRoundTrip(pointsStateCodec, empty)).toBe('[3600000,null,0,[],[],[],[],[],[]]');
    const day = sh(2027, 1, 2, 0);
    const s: PointsState = {
      clock: sh(2026, 5, 5, 13, 14, 15) + 678,
      lots: [
        { expiresAt: day, points: 5 },
        { expiresAt: day + dayMs, points: 7 },
      ],
      pending: [{ availableAt: sh(2026, 5, 9, 0), points: 100 }],
      debt: 0,
      credits: [
        ...nastyIds.map((id) => credit(id)),
        credit('refunded', { refundedFen: 1 }),
        credit('reversed', { reversed: 1 }),
        credit('pending-only', { pending: 1 }),
        credit('available-at-only', { availableAt: sh(2026, 5, 9, 0) }),
        credit('all', {
          refundedFen: 4,
          reversed: 5,
          pending: 6,
          availableAt: sh(2026, 5, 9, 0),
          expiresAt: day - 3 * dayMs,
        }),
      ],
      redemptions: [
        {
          id: '😀"\\',
          at: sh(2026, 5, 1) + 1,
          draws: [
            [day, 5],
            [day + dayMs, 2],
          ],
          cancelled: false,
        },
        { id: '\ud800', at: sh(2026, 4, 1), draws: [], cancelled: true },
        { id: '', at: sh(2026, 4, 1), draws: [], cancelled: false },
      ],
      usage: Object.fromEntries([
        [
          '规则|day',
          [
            [20_500, 1],
            [20_501, 12],
          ],
        ],
        ['__proto__', [[0, 3]]],
        ['base:interaction|day', []],
      ]),
      qualifying: [
        [20_480, 10],
        [20_481, -3],
        [20_600, 0],
      ],
    };
    const text = checkRoundTrip(pointsStateCodec, s);
    expect(text.startsWith('[3600000,')).toBe(true);
    // Debt, a null-free clock of 0 and a zero-point lot stay as they are.
    checkRoundTrip(pointsStateCodec, { ...empty, clock: 0, debt: 42, lots: [{ expiresAt: 0, points: 0 }] });
    // Usage key order does not change the encoding.
    const reordered = { ...s, usage: Object.fromEntries(Object.entries(s.usage).reverse()) };
    expect(pointsStateCodec.encode(reordered)).toBe(text);
  });

  it('edge cases: instants off the hour use a finer unit; instants where deltas could round fall back to JSON', () => {
    const base = initialPointsState();
    const kolkata = { ...base, lots: [{ expiresAt: Date.UTC(2027, 0, 1, 18, 30), points: 1 }] };
    expect(checkRoundTrip(pointsStateCodec, kolkata).startsWith('[60000,')).toBe(true);
    const odd = {
      ...base,
      credits: [credit('a', { expiresAt: 1_234_567_890_123, availableAt: 1_234_567_890_001, pending: 1 })],
    };
    expect(checkRoundTrip(pointsStateCodec, odd).startsWith('[1,')).toBe(true);
    const negative = {
      ...base,
      lots: [
        { expiresAt: -7_200_000, points: 1 },
        { expiresAt: 3_600_000, points: 2 },
      ],
    };
    expect(checkRoundTrip(pointsStateCodec, negative).startsWith('[3600000,')).toBe(true);
    for (const bad of [
      { ...base, lots: [{ expiresAt: 1.5, points: 1 }] },
      {
        ...base,
        lots: [
          { expiresAt: -(2 ** 53) + 1, points: 1 },
          { expiresAt: 2 ** 53 - 1, points: 1 },
        ],
      },
      { ...base, redemptions: [{ id: 'r', at: 2 ** 60, draws: [], cancelled: false }] },
      { ...base, qualifying: [[0.25, 1] as [number, number]] },
      { ...base, credits: [credit('c', { availableAt: 2 ** 53 + 2, pending: 1 })] },
    ]) {
      expect(checkRoundTrip(pointsStateCodec, bad).startsWith('{')).toBe(true);
    }
  });

  it('property: arbitrary states (any finite numbers, any ids, unsorted lists) round-trip', () => {
    // -0 is excluded: JSON (the default codec) turns it into 0 too.
    const num = fc
      .oneof(
        fc.integer({ min: -2, max: 2 }),
        fc.integer({ min: -1e6, max: 1e6 }),
        fc.maxSafeInteger(),
        fc.double({ noNaN: true, noDefaultInfinity: true }),
      )
      .filter((x) => !Object.is(x, -0));
    const instant = fc.oneof(
      fc.integer({ min: 0, max: 5_000_000 }).map((h) => h * 3_600_000),
      fc.integer({ min: 0, max: 3e14 }),
      num,
    );
    const pair = fc.tuple(instant, num);
    const state: fc.Arbitrary<PointsState> = fc.record(
      {
        clock: fc.option(num, { nil: null }),
        lots: fc.array(fc.record({ expiresAt: instant, points: num }, plain)),
        pending: fc.array(fc.record({ availableAt: instant, points: num }, plain)),
        debt: num,
        credits: fc.array(
          fc.record(
            {
              id: anyText,
              amountFen: num,
              refundedFen: num,
              earned: num,
              reversed: num,
              pending: num,
              availableAt: fc.option(instant, { nil: null }),
              expiresAt: instant,
            },
            plain,
          ),
        ),
        redemptions: fc.array(
          fc.record({ id: anyText, at: instant, draws: fc.array(pair), cancelled: fc.boolean() }, plain),
        ),
        usage: fc.dictionary(anyText, fc.array(pair, { maxLength: 4 }), plain),
        qualifying: fc.array(pair),
      },
      plain,
    );
    fc.assert(
      fc.property(state, (s) => void checkRoundTrip(pointsStateCodec, s)),
      { numRuns: 500 },
    );
  });
});

// ---------------------------------------------------------------- reco-items

const recoCtx = (r: Rules) => ({
  rules: r,
  record: { timestamp: 0, sizeBytes: 100, topic: 'test.reco.item-updates', partition: 0, offset: '0' },
});
const withCoItems = (k: number): Rules => ({ ...rules, reco: { ...rules.reco, coItemsPerItem: k } });

function itemRun(updates: ItemUpdateValue[], r: Rules): RecoItemState[] {
  let s = emptyRecoItemState();
  return updates.map((u) => {
    const d = decideRecoItem(s, u, recoCtx(r));
    if (d.kind !== 'applied') throw new Error(`rejected: ${d.rejection.reason}`);
    return (s = d.state);
  });
}

const updateOp = fc.record({
  partition: fc.integer({ min: 0, max: 11 }),
  step: fc.integer({ min: -2, max: 1_000 }), // negative: a stale update, dropped
  addsMember: fc.boolean(),
  category: fc.option(fc.oneof(fc.constantFrom('math', 'art', ''), anyText), { nil: null }),
  coItems: fc.uniqueArray(
    fc.oneof(
      fc.integer({ min: 0, max: 30 }).map((i) => `i${i}`),
      anyText,
    ),
    { maxLength: 8 },
  ),
});
type UpdateOp = typeof updateOp extends fc.Arbitrary<infer T> ? T : never;

function itemUpdates(ops: UpdateOp[]): ItemUpdateValue[] {
  const offsets = new Array<number>(12).fill(1_000_000);
  return ops.map((o, i) => {
    offsets[o.partition]! += o.step;
    const u = {
      eventId: `co:${i}`,
      itemId: 'x',
      addsMember: o.addsMember,
      category: o.category,
      coItems: o.coItems.filter((j) => j !== 'x'),
    };
    return {
      ...u,
      userId: 'm',
      sourceEventId: `e${i}`,
      sourcePartition: o.partition,
      sourceOffset: offsets[o.partition]!,
      occurredAt: 0,
    };
  });
}

describe('reco-items state codec', () => {
  it('is the worker’s storage encoding', () => {
    expect(recoItemsLogic.stateCodec).toBe(recoItemStateCodec);
    expect(recoItemsWorker.stateCodec).toBe(recoItemStateCodec);
  });

  it('property: every state reached by random update sequences (small bounds: evictions and error bounds) round-trips, smaller than JSON', () => {
    let withErrors = 0;
    fc.assert(
      fc.property(
        fc.array(updateOp, { minLength: 1, maxLength: 80, size: 'max' }),
        fc.constantFrom(1, 2, 5, 100),
        (ops, k) => {
          for (const s of itemRun(itemUpdates(ops), withCoItems(k))) {
            const text = checkRoundTrip(recoItemStateCodec, s);
            expect(text.startsWith('[')).toBe(true);
            expect(text.length).toBeLessThan(JSON.stringify(s).length);
            if (s.co.some((e) => e.length === 3)) withErrors++;
          }
        },
      ),
      { numRuns: 200 },
    );
    expect(withErrors).toBeGreaterThan(100);
  });

  it('edge cases: empty state, null against empty category, numeric-looking ids stay strings, unicode, zero and explicit errors', () => {
    expect(checkRoundTrip(recoItemStateCodec, emptyRecoItemState())).toBe('[0,null,0,[]]');
    const s: RecoItemState = {
      n: 3,
      category: '',
      co: [
        ...nastyIds.map((id, i): [string, number] => [id, 100 - i]),
        ['1', 5, 4],
        ['2', 5, 5],
        ['3', 2, 0],
        ['4', 1],
      ],
      evictions: 7,
      applied: { '0': 5, '10': 0, '2': 9_007_199_254_740_991, '😀': 1 },
    };
    checkRoundTrip(recoItemStateCodec, s);
    checkRoundTrip(recoItemStateCodec, { ...s, category: null });
    checkRoundTrip(recoItemStateCodec, { ...s, category: 'null' });
    // Counts out of order (not reachable) still round-trip: the drops are signed.
    checkRoundTrip(recoItemStateCodec, {
      ...s,
      co: [
        ['a', 1],
        ['b', 9, 3],
        ['c', 4],
      ],
    });
    // Counts where differences could round: plain JSON.
    for (const co of [
      [
        ['a', 2 ** 53 - 1],
        ['b', -(2 ** 53) + 1],
      ],
      [['a', 0.5]],
      [['a', 3, 1e300]],
    ] as RecoItemState['co'][]) {
      expect(checkRoundTrip(recoItemStateCodec, { ...s, co }).startsWith('{')).toBe(true);
    }
  });

  it('property: arbitrary states round-trip', () => {
    const num = fc
      .oneof(
        fc.integer({ min: -2, max: 2 }),
        fc.integer({ min: -1e6, max: 1e6 }),
        fc.maxSafeInteger(),
        fc.double({ noNaN: true, noDefaultInfinity: true }),
      )
      .filter((x) => !Object.is(x, -0));
    const entry = fc.oneof(fc.tuple(anyText, num), fc.tuple(anyText, num, num));
    const state: fc.Arbitrary<RecoItemState> = fc.record(
      {
        n: num,
        category: fc.option(anyText, { nil: null }),
        co: fc.array(entry),
        evictions: num,
        applied: fc.dictionary(anyText, num, plain),
      },
      plain,
    );
    fc.assert(
      fc.property(state, (s) => void checkRoundTrip(recoItemStateCodec, s)),
      { numRuns: 500 },
    );
  });
});

// ---------------------------------------------------------------- sizes of realistic large states

const uuidOf = (seed: string): string => {
  const h = createHash('sha256').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
};
const ratio = <S>(codec: StateCodec<S>, s: S) => codec.encode(s).length / JSON.stringify(s).length;
const last = <T>(xs: readonly T[]): T => xs[xs.length - 1]!;

describe('state codecs: size against JSON on realistic large states', () => {
  it('points: a very busy member for three years (measured 59.6 KB JSON → 14.0 KB, ratio 0.23)', () => {
    const steps = busyThreeYears();
    const s = last(pointsRun(steps, rules, false).states);
    expect(s.credits.length).toBe(256);
    expect(s.redemptions.length).toBe(64);
    checkRoundTrip(pointsStateCodec, s);
    expect(ratio(pointsStateCodec, s)).toBeLessThan(0.3);
  }, 60_000);

  it('points: an active member after a year, UUID event ids (measured 12.8 KB JSON → 3.3 KB, ratio 0.26)', () => {
    const steps: Step[] = [];
    const start = sh(2026, 1, 1, 8);
    for (let d = 0; d < 365; d++) {
      const t = start + d * dayMs + ((d * 7919) % 36_000) * 1000;
      if (d % 14 === 0) steps.push(purchase(uuidOf(`p${d}`), 9_900 + d * 13, t));
      if (d % 2 === 0) steps.push(ev(uuidOf(`c${d}`), 'comment', t + 600_000, { itemId: 'i' }));
      if (d % 60 === 30) steps.push(redeem(uuidOf(`x${d}`), 100, t + 3600_000));
    }
    const s = last(pointsRun(steps, rules, false).states);
    expect(s.lots.length).toBeGreaterThan(150);
    checkRoundTrip(pointsStateCodec, s);
    expect(ratio(pointsStateCodec, s)).toBeLessThan(0.35);
  });

  /** Updates to one item from 12 partitions: co-items drawn skewed from 3000 stock-code-like ids. */
  function hotItem(updates: number, k: number): RecoItemState {
    let seed = 7;
    const rnd = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    const ids = Array.from({ length: 3000 }, (_, i) => `${20_000 + i}${i % 7 === 0 ? 'B' : ''}`);
    const offsets = new Array<number>(12).fill(1_000_000);
    const us: ItemUpdateValue[] = [];
    for (let u = 0; u < updates; u++) {
      const p = Math.floor(rnd() * 12);
      offsets[p]! += 1 + Math.floor(rnd() * 50);
      const coItems = [
        ...new Set(Array.from({ length: 1 + Math.floor(rnd() * 20) }, () => ids[Math.floor(ids.length * rnd() ** 3)]!)),
      ];
      us.push({
        eventId: `co:${u}`,
        itemId: 'X',
        addsMember: rnd() < 0.3,
        category: 'kitchen',
        coItems,
        userId: 'm',
        sourceEventId: `e${u}`,
        sourcePartition: p,
        sourceOffset: offsets[p]!,
        occurredAt: 0,
      });
    }
    return last(itemRun(us, withCoItems(k)));
  }

  it('reco-items: a best-seller whose 100-entry list overflowed (measured 2219 B JSON → 1399 B, ratio 0.63)', () => {
    const s = hotItem(20_000, 100);
    expect(s.co.length).toBe(100);
    expect(s.evictions).toBeGreaterThan(0);
    checkRoundTrip(recoItemStateCodec, s);
    expect(ratio(recoItemStateCodec, s)).toBeLessThan(0.7);
  });

  it('reco-items: an ordinary item, 74 co-items, list not full, small exact counts (measured 1023 B JSON → 831 B, ratio 0.81: the ids dominate)', () => {
    const s = hotItem(8, 100);
    expect(s.evictions).toBe(0);
    expect(s.co.length).toBeGreaterThan(50);
    checkRoundTrip(recoItemStateCodec, s);
    expect(ratio(recoItemStateCodec, s)).toBeLessThan(0.85);
  });
});

// ---------------------------------------------------------------- behavior-events

const profileArb: fc.Arbitrary<MemberProfile> = fc.record(
  {
    firstSeenAt: fc.option(fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 }), { nil: null }),
    lastActivityAt: fc.option(fc.integer(), { nil: null }),
    signedUpAt: fc.option(fc.integer(), { nil: null }),
    referrerId: fc.option(fc.oneof(anyText, fc.constantFrom(...nastyIds)), { nil: null }),
    purchaseCount: fc.nat(),
    totalSpendFen: fc.nat(),
    learningCount: fc.nat(),
    activeDays: fc.nat(),
    recentDays: fc.array(fc.integer({ min: -1_000_000, max: 1_000_000 }), { maxLength: 12 }),
    recentCategories: fc.array(fc.oneof(anyText, fc.constantFrom(...nastyIds)), { maxLength: 5 }),
    subscription: fc.option(fc.record({ plan: fc.constantFrom('monthly', 'annual'), periodEnd: fc.integer() }, plain), {
      nil: null,
    }),
    // Ids with shared prefixes (one order's lines), arbitrary text and surrogate halves split at the shared point.
    refundable: fc.array(
      fc.tuple(
        fc.oneof(
          fc.nat({ max: 30 }).map((i) => `or:538053:${i}`),
          anyText,
          fc.constantFrom(...nastyIds),
          fc.constantFrom('😀a', '😀b', '\ud83d'),
        ),
        fc.nat(),
      ),
      { maxLength: 20 },
    ),
    refundableTruncated: fc.boolean(),
    stage: fc.constantFrom('acquisition', 'activation', 'retention', 'value_add', 'exit'),
    tags: fc.subarray(['high_value', 'active', 'dormant'] as ProfileTag[]),
    dailyEvents: fc.array(fc.tuple(fc.integer({ min: 0, max: 100_000 }), fc.nat({ max: 3000 })), { maxLength: 7 }),
  },
  plain,
);

describe('behavior-events state codec', () => {
  it('is the worker’s storage encoding', () => {
    expect(behaviorLogic.stateCodec).toBe(profileCodec);
    expect(behaviorEventsWorker.stateCodec).toBe(profileCodec);
  });

  it('property: any profile round-trips (ids of any characters, shared prefixes split anywhere), smaller than its JSON', () => {
    fc.assert(
      fc.property(profileArb, (p) => {
        const text = checkRoundTrip(profileCodec, p);
        expect(text.startsWith('[')).toBe(true);
        expect(Buffer.byteLength(text)).toBeLessThan(Buffer.byteLength(JSON.stringify(p)));
      }),
      { numRuns: 500 },
    );
  });

  it('reads a profile stored as a JSON object before the codec, older fields missing', () => {
    const { dailyEvents: _, ...older } = {
      ...newProfile(),
      purchaseCount: 3,
      refundable: [['a', 5]] as [string, number][],
    };
    expect(profileCodec.decode(JSON.stringify(older))).toEqual(older);
  });

  it('a profile from decisions (one order of 30 lines paid, as in Online Retail) is about half its JSON', () => {
    const ctx = {
      rules,
      record: { timestamp: Date.UTC(2026, 1, 1), sizeBytes: 100, topic: 't', partition: 0, offset: '0' },
    };
    let p = newProfile();
    for (let i = 0; i < 30; i++) {
      const d = decideBehavior(
        p,
        activity({
          eventId: `or:538053:${i}`,
          userId: 'u',
          type: 'purchase',
          itemId: `c${i}`,
          category: `stock:${i % 5}`,
          amountFen: 100 * i + 630,
          occurredAt: Date.UTC(2026, 0, 1 + (i % 3)),
        }),
        ctx,
      );
      if (d.kind !== 'applied') throw new Error(d.rejection.reason);
      p = d.state;
    }
    expect(p.refundable.length).toBe(30);
    const text = checkRoundTrip(profileCodec, p);
    expect(Buffer.byteLength(text) / Buffer.byteLength(JSON.stringify(p))).toBeLessThan(0.6);
  });
});
