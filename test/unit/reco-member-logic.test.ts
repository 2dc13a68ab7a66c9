import { describe, expect, it } from 'vitest';
import { defaultRules, type Rules } from '../../shared/config/rules.js';
import type { BehaviorEventValue } from '../../shared/contracts/behavior-event.js';
import type { ChurnRiskValue } from '../../shared/contracts/churn-risk.js';
import type { DecideContext, OutputEvent } from '../../shared/kernel/types.js';
import { referenceRun } from '../../shared/kernel/reference-run.js';
import { emptyItemState, type ItemState } from '../../shared/reco/cooccurrence.js';
import { emptyMemberState } from '../../shared/reco/member.js';
import { emptyPopularity, type PopularityState } from '../../shared/reco/popularity.js';
import { avroType } from '../../shared/contracts/schemas.js';
import type { RecommendationValue } from '../../services/recommendations/events.js';
import type { ItemUpdateValue, RecoInput } from '../../services/recommendations/inputs.js';
import {
  decideRecoMember,
  recoMembersLogic,
  type RecoMemberState,
} from '../../services/recommendations/member-logic.js';
import type { RecoView } from '../../services/recommendations/model.js';
import type { TierChange } from '../../services/tier-evaluation/events.js';
import { behaviorEvent } from '../support/behavior-event.js';
import { inputRecord } from './fixtures.js';

const rules = defaultRules();
const member = 'm1';
const hourMs = 3_600_000;
const t0 = Date.UTC(2026, 2, 1, 8, 0, 0);

function withReco(patch: Partial<Rules['reco']>, base: Rules = rules): Rules {
  return { ...base, reco: { ...base.reco, ...patch } };
}

// ---------------------------------------------------------------- inputs

function behavior(id: string, type: string, at: number, extra: Partial<BehaviorEventValue> = {}): RecoInput {
  const event = behaviorEvent({
    eventId: `bhv:${id}`,
    sourceEventId: id,
    userId: member,
    type,
    occurredAt: at,
    ...extra,
  });
  return { source: 'behavior', event };
}
const buy = (id: string, itemId: string, category: string | null, at: number) =>
  behavior(id, 'purchase', at, { itemId, category, amountFen: 1000 });
const complete = (id: string, itemId: string, category: string | null, at: number) =>
  behavior(id, 'lesson_complete', at, { itemId, category, seconds: 600 });

function churn(id: string, previousBand: string | null, band: string, at: number): RecoInput {
  const event: ChurnRiskValue = {
    eventId: id,
    sourceEventId: `bhv:${id}`,
    userId: member,
    reason: previousBand === null ? 'band_assigned' : 'band_changed',
    previousBand,
    band,
    pAlive: 0.2,
    expectedPurchases: 0.1,
    horizonDays: 90,
    expectedAverageSpendFen: null,
    lifetimeValueFen: null,
    frequency: 1,
    recencyDays: 10,
    ageDays: 100,
    lastActivityAt: at,
    lifecycleStage: 'activation',
    plan: null,
    periodEnd: null,
    modelVersion: 'm',
    rulesVersion: 'r',
    occurredAt: at,
  };
  return { source: 'churn', event };
}

function tier(
  id: string,
  kind: TierChange['kind'],
  previousTier: string | null,
  newTier: string,
  at: number,
  benefits: string[] = [],
): RecoInput {
  const event: TierChange = {
    eventId: id,
    userId: member,
    kind,
    previousTier,
    newTier,
    newTierLabel: newTier,
    reason: 'points_earned',
    reasons: ['points_earned'],
    qualifyingPoints: 200,
    pointsToNextTier: null,
    pointsToKeepTier: null,
    graceEndsAt: null,
    floorTier: null,
    benefits,
    rulesVersion: 'r',
    decidedAt: at,
    sourceEventId: `bhv:${id}`,
    sequence: '',
  };
  return { source: 'tier', event };
}

// ---------------------------------------------------------------- views

/** Item statistics given by hand: n and exact co-counts. */
function statsOf(items: Record<string, { n: number; co?: Record<string, number> }>): RecoView['stats'] {
  const states = new Map<string, ItemState>();
  for (const [id, s] of Object.entries(items)) {
    const st = emptyItemState();
    st.n = s.n;
    for (const [j, c] of Object.entries(s.co ?? {})) st.co.set(j, { count: c, error: 0 });
    states.set(id, st);
  }
  return { state: (id) => states.get(id), members: (id) => states.get(id)?.n ?? 0 };
}

const emptyView: RecoView = { stats: { state: () => undefined, members: () => 0 }, popularity: emptyPopularity() };

function richPopularity(): PopularityState {
  return {
    members: 10,
    global: [
      ['c', 4],
      ['a', 3],
      ['b', 2],
      ['e', 2],
      ['f', 2],
      ['d', 1],
    ],
    categories: new Map([
      [
        'math',
        [
          ['g', 5],
          ['a', 3],
          ['h', 1],
        ],
      ],
      ['art', [['f', 2]]],
    ]),
  };
}

/**
 * a: n 3, co c:2 d:1 — b: n 2, co c:1 e:2 a:1 — c 4, d 1, e 2 members.
 * A member with [a] gets (cosine) c = d = 2/√12 ≈ 0.577 (tie: by id), then math popularity, then global.
 * A member with [a, b] gets e = 2/√4 = 1, c = 2/√12 + 1/√8 ≈ 0.931, d ≈ 0.577.
 */
const richView: RecoView = {
  stats: statsOf({
    a: { n: 3, co: { c: 2, d: 1 } },
    b: { n: 2, co: { c: 1, e: 2, a: 1 } },
    c: { n: 4 },
    d: { n: 1 },
    e: { n: 2 },
  }),
  popularity: richPopularity(),
};

// ---------------------------------------------------------------- running

function ctxFor(r: Rules, view: RecoView | undefined, offset: number, partition = 0): DecideContext<RecoView> {
  const ctx: DecideContext<RecoView> = {
    rules: r,
    record: { timestamp: t0, sizeBytes: 100, topic: 'test.behavior.events', partition, offset: String(offset) },
  };
  if (view !== undefined) ctx.view = view;
  return ctx;
}

interface Stepped {
  state: RecoMemberState;
  outputs: OutputEvent[];
  updates: ItemUpdateValue[];
  recos: RecommendationValue[];
}

/** Applies one input; every output must be valid for its topic's schema. */
function step(
  state: RecoMemberState,
  input: RecoInput,
  o: { rules?: Rules; view?: RecoView; offset?: number; partition?: number } = {},
): Stepped {
  const d = decideRecoMember(
    state,
    input,
    ctxFor(o.rules ?? rules, o.view ?? richView, o.offset ?? 0, o.partition ?? 0),
  );
  if (d.kind !== 'applied') throw new Error(`rejected: ${d.rejection.reason}`);
  for (const out of d.outputs) {
    const bad: string[] = [];
    avroType(out.topic).isValid(out.value, { errorHook: (p) => bad.push(p.join('.')) });
    expect(bad, `invalid output ${out.id}`).toEqual([]);
  }
  return {
    state: d.state,
    outputs: d.outputs,
    updates: d.outputs.filter((x) => x.topic === 'reco.item-updates').map((x) => x.value as unknown as ItemUpdateValue),
    recos: d.outputs
      .filter((x) => x.topic === 'member.recommendations')
      .map((x) => x.value as unknown as RecommendationValue),
  };
}

function runAll(
  inputs: RecoInput[],
  o: { rules?: Rules; view?: RecoView } = {},
  start: RecoMemberState = emptyMemberState(),
) {
  let state = start;
  const perStep: Stepped[] = [];
  inputs.forEach((input, i) => {
    const s = step(state, input, { ...o, offset: 100 + i });
    perStep.push(s);
    state = s.state;
  });
  return { state, perStep, outputs: perStep.flatMap((s) => s.outputs) };
}

const ids = (items: { itemId: string }[]) => items.map((i) => i.itemId);
const ranked = (items: RecommendationValue['items']) => items.map((i) => [i.itemId, i.source]);

// ---------------------------------------------------------------- tests

describe('reco-members: item updates and next_item', () => {
  it('a new item gives one reco.item-updates record per touched item, positioned at its source record, and one next_item event', () => {
    const first = step(emptyMemberState(), buy('p1', 'a', 'math', t0), { offset: 41, partition: 3 });
    expect(first.outputs.map((o) => [o.topic, o.key, o.id])).toEqual([
      ['reco.item-updates', 'a', 'co:6:bhv:p1:a'],
      ['member.recommendations', member, 'reco:next_item:bhv:p1'],
    ]);
    expect(first.updates[0]).toEqual({
      eventId: 'co:6:bhv:p1:a',
      itemId: 'a',
      addsMember: true,
      category: 'math',
      coItems: [],
      userId: member,
      sourceEventId: 'bhv:p1',
      sourcePartition: 3,
      sourceOffset: 41,
      occurredAt: t0,
    });

    const second = step(first.state, buy('p2', 'b', 'math', t0 + 25 * hourMs), { offset: 57, partition: 3 });
    expect(second.outputs.map((o) => [o.topic, o.key, o.id])).toEqual([
      ['reco.item-updates', 'b', 'co:6:bhv:p2:b'],
      ['reco.item-updates', 'a', 'co:6:bhv:p2:a'],
      ['member.recommendations', member, 'reco:next_item:bhv:p2'],
    ]);
    expect(second.updates).toEqual([
      {
        eventId: 'co:6:bhv:p2:b',
        itemId: 'b',
        addsMember: true,
        category: 'math',
        coItems: ['a'],
        userId: member,
        sourceEventId: 'bhv:p2',
        sourcePartition: 3,
        sourceOffset: 57,
        occurredAt: t0 + 25 * hourMs,
      },
      {
        eventId: 'co:6:bhv:p2:a',
        itemId: 'a',
        addsMember: false,
        category: null,
        coItems: ['b'],
        userId: member,
        sourceEventId: 'bhv:p2',
        sourcePartition: 3,
        sourceOffset: 57,
        occurredAt: t0 + 25 * hourMs,
      },
    ]);
    expect(second.state.items).toEqual(['a', 'b']);
    expect(second.state.categories).toEqual(['math']);
    expect(second.state.lastEmitted).toEqual({ next_item: t0 + 25 * hourMs });

    const reco = second.recos[0]!;
    expect(reco).toMatchObject({
      eventId: 'reco:next_item:bhv:p2',
      sourceEventId: 'bhv:p2',
      userId: member,
      trigger: 'next_item',
      unlocks: [],
      modelVersion: 'cf-cosine-k100-r20-o1000',
      rulesVersion: rules.version,
      occurredAt: t0 + 25 * hourMs,
    });
    // CF first (e 1, c ≈ 0.931, d ≈ 0.577), then the member's category (math: g, h; a is owned), then global (f): never a or b.
    expect(ranked(reco.items)).toEqual([
      ['e', 'cf'],
      ['c', 'cf'],
      ['d', 'cf'],
      ['g', 'category_popularity'],
      ['h', 'category_popularity'],
      ['f', 'popularity'],
    ]);
    expect(reco.items[0]!.score).toBeCloseTo(1, 12);
    expect(reco.items[1]!.score).toBeCloseTo(2 / Math.sqrt(12) + 1 / Math.sqrt(8), 12);
    expect(reco.items[2]!.score).toBeCloseTo(1 / Math.sqrt(3), 12);
    expect(reco.items.slice(3).map((i) => i.score)).toEqual([5, 1, 2]);
  });

  it('the first item of a member: CF ties broken by id, owned item excluded, popularity fills', () => {
    const s = step(emptyMemberState(), buy('p1', 'a', 'math', t0));
    expect(ranked(s.recos[0]!.items)).toEqual([
      ['c', 'cf'],
      ['d', 'cf'],
      ['g', 'category_popularity'],
      ['h', 'category_popularity'],
      ['b', 'popularity'],
      ['e', 'popularity'],
      ['f', 'popularity'],
    ]);
  });

  it('a repeat purchase of an owned item emits no item update (and the item moves to the most recent end)', () => {
    const s1 = runAll([buy('p1', 'a', 'math', t0), buy('p2', 'b', 'art', t0 + 30 * hourMs)]).state;
    const again = step(s1, buy('p3', 'a', 'math', t0 + 31 * hourMs));
    expect(again.updates).toEqual([]);
    expect(again.outputs).toEqual([]); // and within 24 h of the last next_item: no event either
    expect(again.state.items).toEqual(['b', 'a']);
    // Later than 24 h: a next_item event, still without item updates and without owned items.
    const later = step(again.state, buy('p4', 'b', 'art', t0 + 60 * hourMs));
    expect(later.updates).toEqual([]);
    expect(later.outputs.map((o) => o.id)).toEqual(['reco:next_item:bhv:p4']);
    expect(ids(later.recos[0]!.items)).not.toContain('a');
    expect(ids(later.recos[0]!.items)).not.toContain('b');
  });

  it('rate limit: a second item within 24 h of event time gets no next_item event; 24 h after the last event it does', () => {
    const r = runAll([
      buy('p1', 'a', null, t0),
      buy('p2', 'b', null, t0 + 24 * hourMs - 1), // within the window
      buy('p3', 'c', null, t0 + 24 * hourMs), // exactly 24 h after the last emission (the suppressed one does not move the window)
      buy('p4', 'd', null, t0 + 30 * hourMs), // within the new window
      buy('p5', 'e', null, t0 - 48 * hourMs), // late data does not reopen the window
      buy('p6', 'f', null, t0 + 48 * hourMs + 1),
    ]);
    expect(r.perStep.map((s) => s.recos.map((x) => x.eventId))).toEqual([
      ['reco:next_item:bhv:p1'],
      [],
      ['reco:next_item:bhv:p3'],
      [],
      [],
      ['reco:next_item:bhv:p6'],
    ]);
    // Every one of them is a new item: its updates go out whatever the rate limit says.
    expect(r.perStep.map((s) => s.updates.length)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(r.state.lastEmitted).toEqual({ next_item: t0 + 48 * hourMs + 1 });
  });

  it('the interval comes from rules reco.minIntervalHours.next_item', () => {
    const r = runAll(
      [buy('p1', 'a', null, t0), buy('p2', 'b', null, t0 + 2 * hourMs), buy('p3', 'c', null, t0 + 3 * hourMs)],
      {
        rules: withReco({ minIntervalHours: { ...rules.reco.minIntervalHours, next_item: 2 } }),
      },
    );
    expect(r.perStep.map((s) => s.recos.length)).toEqual([1, 1, 0]);
  });

  it('a lesson completion counts as an item, like a purchase', () => {
    const s0 = step(emptyMemberState(), buy('p1', 'a', 'math', t0)).state;
    const s = step(s0, complete('l1', 'b', 'math', t0 + 25 * hourMs), { offset: 9 });
    expect(s.updates.map((u) => [u.eventId, u.itemId, u.addsMember, u.coItems, u.sourceOffset])).toEqual([
      ['co:6:bhv:l1:b', 'b', true, ['a'], 9],
      ['co:6:bhv:l1:a', 'a', false, ['b'], 9],
    ]);
    expect(s.recos.map((x) => [x.eventId, x.trigger])).toEqual([['reco:next_item:bhv:l1', 'next_item']]);
    expect(s.state.items).toEqual(['a', 'b']);
  });

  it('events without an item but with a category only update the categories', () => {
    const s0 = step(emptyMemberState(), buy('p1', 'a', 'math', t0)).state;
    const view = step(s0, behavior('v1', 'content_view', t0 + 30 * hourMs, { itemId: 'x', category: 'art' }));
    expect(view.outputs).toEqual([]);
    expect(view.state).toEqual({ items: ['a'], categories: ['math', 'art'], lastEmitted: { next_item: t0 } });
    // A purchase without an item id is not an item either.
    const noItem = step(
      view.state,
      behavior('p2', 'purchase', t0 + 31 * hourMs, { amountFen: 100, category: 'music' }),
    );
    expect(noItem.outputs).toEqual([]);
    expect(noItem.state).toEqual({
      items: ['a'],
      categories: ['math', 'art', 'music'],
      lastEmitted: { next_item: t0 },
    });
    // The same category again as the most recent one: nothing changes.
    const same = step(noItem.state, behavior('v2', 'content_view', t0 + 32 * hourMs, { category: 'music' }));
    expect(same.state).toEqual(noItem.state);
    // No category: nothing.
    const none = step(noItem.state, behavior('c1', 'comment', t0 + 33 * hourMs));
    expect(none.outputs).toEqual([]);
    expect(none.state).toEqual(noItem.state);
    // The category is what the cold start uses: a member with no item gets the art list first.
    const cold = step(emptyMemberState(), behavior('v3', 'content_view', t0, { category: 'art' }));
    expect(cold.state).toEqual({ items: [], categories: ['art'], lastEmitted: {} });
    const first = step(cold.state, buy('p9', 'z', null, t0));
    expect(ranked(first.recos[0]!.items).slice(0, 2)).toEqual([
      ['f', 'category_popularity'],
      ['c', 'popularity'],
    ]);
  });

  it('recommended items never include items the member owns', () => {
    // The member owns the top of every list: CF candidates, category and global popularity.
    const r = runAll(['c', 'a', 'g', 'f', 'e'].map((item, i) => buy(`p${i}`, item, 'math', t0 + i * 25 * hourMs)));
    const owned = new Set(['c', 'a', 'g', 'f', 'e']);
    const lists = r.perStep.flatMap((s) => s.recos.map((x) => ids(x.items)));
    expect(lists).toHaveLength(5);
    for (const [i, list] of lists.entries()) {
      const ownedThen = ['c', 'a', 'g', 'f', 'e'].slice(0, i + 1);
      for (const o of ownedThen) expect(list).not.toContain(o);
    }
    expect(lists[4]).toEqual(['d', 'h', 'b']);
    expect(lists[4]!.every((x) => !owned.has(x))).toBe(true);
  });
});

describe('reco-members: win_back', () => {
  it('a move to band high from another band emits win_back; high to high, or to medium, does not', () => {
    const r = runAll([
      churn('c1', 'medium', 'high', t0),
      churn('c2', 'high', 'high', t0 + 800 * hourMs),
      churn('c3', 'high', 'medium', t0 + 900 * hourMs),
      churn('c4', 'low', 'medium', t0 + 1000 * hourMs),
    ]);
    expect(r.perStep.map((s) => s.outputs.map((o) => o.id))).toEqual([['reco:win_back:c1'], [], [], []]);
    const w = r.perStep[0]!.recos[0]!;
    expect(w).toMatchObject({
      eventId: 'reco:win_back:c1',
      sourceEventId: 'c1',
      trigger: 'win_back',
      userId: member,
      occurredAt: t0,
      unlocks: [],
    });
    // A member without items: popularity only.
    expect(ranked(w.items)).toEqual([
      ['c', 'popularity'],
      ['a', 'popularity'],
      ['b', 'popularity'],
      ['e', 'popularity'],
      ['f', 'popularity'],
      ['d', 'popularity'],
    ]);
    expect(r.state).toEqual({ items: [], categories: [], lastEmitted: { win_back: t0 } });
  });

  it('a first band of high (no previous band) also emits win_back', () => {
    expect(step(emptyMemberState(), churn('c1', null, 'high', t0)).outputs.map((o) => o.id)).toEqual([
      'reco:win_back:c1',
    ]);
  });

  it('win_back is limited to one per 720 h, independently of next_item', () => {
    const r = runAll([
      buy('p1', 'a', null, t0),
      churn('c1', 'medium', 'high', t0 + hourMs), // next_item was just sent: win_back still goes
      buy('p2', 'b', null, t0 + 2 * hourMs), // win_back was just sent, next_item within 24 h: nothing
      churn('c2', 'medium', 'high', t0 + 719 * hourMs), // within 720 h of c1
      buy('p3', 'c', null, t0 + 719 * hourMs), // next_item's own window passed
      churn('c3', 'low', 'high', t0 + 721 * hourMs), // 720 h after c1
    ]);
    expect(r.perStep.map((s) => s.recos.map((x) => x.eventId))).toEqual([
      ['reco:next_item:bhv:p1'],
      ['reco:win_back:c1'],
      [],
      [],
      ['reco:next_item:bhv:p3'],
      ['reco:win_back:c3'],
    ]);
    expect(r.state.lastEmitted).toEqual({ next_item: t0 + 719 * hourMs, win_back: t0 + 721 * hourMs });
  });
});

describe('reco-members: tier_upgrade', () => {
  it('an upgrade emits tier_upgrade with the benefits the new tier adds over the previous one (default ladder)', () => {
    const cases: Array<[string | null, string, string[]]> = [
      ['bronze', 'silver', ['member_discounts', 'free_trials', 'member_only_courses']],
      ['silver', 'gold', ['free_courses', 'priority_support', 'customised_service']],
      ['bronze', 'gold', ['member_discounts', 'priority_support', 'customised_service']],
      [null, 'silver', ['member_discounts', 'free_trials', 'member_only_courses']],
    ];
    for (const [from, to, unlocks] of cases) {
      const s = step(emptyMemberState(), tier('t1', 'upgrade', from, to, t0, ['ignored_when_the_tier_is_known']));
      expect(s.outputs.map((o) => o.id)).toEqual(['reco:tier_upgrade:t1']);
      expect(s.recos[0]).toMatchObject({
        eventId: 'reco:tier_upgrade:t1',
        sourceEventId: 't1',
        trigger: 'tier_upgrade',
        unlocks,
        occurredAt: t0,
      });
      expect(s.state.lastEmitted).toEqual({ tier_upgrade: t0 });
    }
    // A tier the ladder does not know: the event's own benefit list, without the previous tier's.
    const unknown = step(
      emptyMemberState(),
      tier('t2', 'upgrade', 'silver', 'platinum', t0, ['free_trials', 'lounge', 'lounge']),
    );
    expect(unknown.recos[0]!.unlocks).toEqual(['lounge']);
  });

  it('with benefitCategories, the unlocked categories come first by popularity, without owned items', () => {
    const r = withReco({
      benefitCategories: { member_discounts: ['math'], free_trials: ['art'], priority_support: ['music'] },
    });
    const owned = step(emptyMemberState(), buy('p1', 'a', 'math', t0), { rules: r }).state;
    const up = step(owned, tier('t1', 'upgrade', 'bronze', 'silver', t0 + hourMs), { rules: r });
    const reco = up.recos[0]!;
    // math: g 5, (a owned), h 1 — art: f 2; then the member's usual list without those (c, d by CF, then b, e by popularity).
    expect(ranked(reco.items)).toEqual([
      ['g', 'unlocked'],
      ['f', 'unlocked'],
      ['h', 'unlocked'],
      ['c', 'cf'],
      ['d', 'cf'],
      ['b', 'popularity'],
      ['e', 'popularity'],
    ]);
    expect(reco.items.slice(0, 3).map((i) => i.score)).toEqual([5, 2, 1]);
    expect(reco.unlocks).toEqual(['member_discounts', 'free_trials', 'member_only_courses']);
    // The list is still cut at reco.top.
    const top2 = step(owned, tier('t1', 'upgrade', 'bronze', 'silver', t0 + hourMs), {
      rules: withReco({ top: 2 }, r),
    });
    expect(ranked(top2.recos[0]!.items)).toEqual([
      ['g', 'unlocked'],
      ['f', 'unlocked'],
    ]);
    // Without a mapping: the usual list.
    const plain = step(owned, tier('t1', 'upgrade', 'bronze', 'silver', t0 + hourMs));
    expect(ids(plain.recos[0]!.items)).toEqual(['c', 'd', 'g', 'h', 'b', 'e', 'f']);
  });

  it('tier_upgrade has no minimum interval by default; other change kinds emit nothing', () => {
    const r = runAll([
      tier('t1', 'upgrade', 'bronze', 'silver', t0),
      tier('t2', 'upgrade', 'silver', 'gold', t0),
      tier('t3', 'initial', null, 'bronze', t0 + hourMs),
      tier('t4', 'downgrade', 'gold', 'silver', t0 + 2 * hourMs),
      tier('t5', 'tier_at_risk', 'silver', 'silver', t0 + 3 * hourMs),
      tier('t6', 'tier_kept', 'silver', 'silver', t0 + 4 * hourMs),
    ]);
    expect(r.perStep.map((s) => s.outputs.map((o) => o.id))).toEqual([
      ['reco:tier_upgrade:t1'],
      ['reco:tier_upgrade:t2'],
      [],
      [],
      [],
      [],
    ]);
    expect(r.state).toEqual({ items: [], categories: [], lastEmitted: { tier_upgrade: t0 } });
  });
});

describe('reco-members: the decision does not depend on the view', () => {
  const inputs: RecoInput[] = [
    behavior('v0', 'content_view', t0 - hourMs, { category: 'art' }),
    buy('p1', 'a', 'math', t0),
    complete('l1', 'b', 'math', t0 + hourMs),
    churn('c1', 'medium', 'high', t0 + 2 * hourMs),
    buy('p2', 'c', null, t0 + 26 * hourMs),
    buy('p3', 'a', 'math', t0 + 60 * hourMs),
    tier('t1', 'upgrade', 'bronze', 'silver', t0 + 61 * hourMs),
    churn('c2', 'high', 'high', t0 + 62 * hourMs),
    churn('c3', 'low', 'high', t0 + 800 * hourMs),
  ];

  it('same states, same item updates, same event ids with an empty view as with a rich one', () => {
    const r = withReco({ benefitCategories: { member_discounts: ['math'] } });
    const poor = runAll(inputs, { rules: r, view: emptyView });
    const rich = runAll(inputs, { rules: r, view: richView });
    expect(poor.perStep.map((s) => s.state)).toEqual(rich.perStep.map((s) => s.state));
    expect(poor.outputs.map((o) => [o.topic, o.key, o.id])).toEqual(rich.outputs.map((o) => [o.topic, o.key, o.id]));
    expect(poor.perStep.map((s) => s.updates)).toEqual(rich.perStep.map((s) => s.updates));
    expect(rich.outputs.filter((o) => o.topic === 'member.recommendations').map((o) => o.id)).toEqual([
      'reco:next_item:bhv:p1',
      'reco:win_back:c1',
      'reco:next_item:bhv:p2',
      'reco:next_item:bhv:p3',
      'reco:tier_upgrade:t1',
      'reco:win_back:c3',
    ]);
    // Only the items differ: nothing to recommend from an empty model.
    expect(poor.perStep.flatMap((s) => s.recos.map((x) => x.items))).toEqual([[], [], [], [], [], []]);
    expect(rich.perStep.flatMap((s) => s.recos.map((x) => x.items.length)).every((n) => n > 0)).toBe(true);
    const strip = (x: RecommendationValue) => ({ ...x, items: [] });
    expect(poor.perStep.flatMap((s) => s.recos.map(strip))).toEqual(rich.perStep.flatMap((s) => s.recos.map(strip)));
  });

  it('through the kernel (referenceRun) too, with the view chosen per event', () => {
    const log = inputs.map((input, i) => {
      const e = input.event;
      return {
        record: inputRecord(i, e, member),
        decoded: { kind: 'event' as const, memberId: member, eventId: e.eventId, event: input },
      };
    });
    const limits = { recentIds: 256, outboxEntries: 1000, maxStateBytes: 1_048_576 };
    const a = referenceRun(recoMembersLogic, log, rules, limits, { view: () => emptyView });
    const b = referenceRun(recoMembersLogic, log, rules, limits, {
      view: (_e, rec) => (Number(rec.offset) % 2 === 0 ? richView : emptyView),
    });
    expect(a.outputs.map((o) => o.id)).toEqual(b.outputs.map((o) => o.id));
    expect(a.outputs.filter((o) => o.topic === 'activity.dlq')).toEqual([]);
    expect(a.states).toEqual(b.states);
    expect(a.states.get(member)).toEqual({
      items: ['b', 'c', 'a'],
      categories: ['art', 'math'],
      lastEmitted: { next_item: t0 + 60 * hourMs, win_back: t0 + 800 * hourMs, tier_upgrade: t0 + 61 * hourMs },
    });
    expect(a.outputs.filter((o) => o.topic === 'reco.item-updates').map((o) => o.id)).toEqual([
      'co:6:bhv:p1:a',
      'co:6:bhv:l1:b',
      'co:6:bhv:l1:a',
      'co:6:bhv:p2:c',
      'co:6:bhv:p2:a',
      'co:6:bhv:p2:b',
    ]);
  });
});

describe('reco-members: projections', () => {
  it('the members projection has the member iff they have at least one item', () => {
    const project = (s: RecoMemberState) => recoMembersLogic.projections!(member, s);
    expect(project(emptyMemberState())).toEqual([]);
    const viewed = step(emptyMemberState(), behavior('v1', 'content_view', t0, { category: 'art' })).state;
    expect(project(viewed)).toEqual([]);
    const churned = step(viewed, churn('c1', 'medium', 'high', t0)).state;
    expect(project(churned)).toEqual([]);
    const bought = step(churned, buy('p1', 'a', null, t0)).state;
    expect(project(bought)).toEqual([{ name: 'members', member, score: 0 }]);
    expect(recoMembersLogic.initialState(member)).toEqual(emptyMemberState());
  });
});
