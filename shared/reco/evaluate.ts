/**
 * Offline evaluation, leave-last-basket-out, through the same incremental functions a
 * stream worker applies (member.ts → cooccurrence.ts → popularity.ts → recommend.ts).
 *
 * Protocol:
 * - Events are processed in time order (a stable sort: equal times keep input order).
 * - A member's basket is their events at one instant (an Online Retail invoice: all its
 *   lines share the invoice time; two invoices of a member at the same minute are one
 *   basket). Members with baskets at two or more instants are evaluated at their last.
 * - Ties: all events at the same instant form a group. Members whose last basket is at
 *   that instant are scored first, on the state built from every event strictly before
 *   it; then the whole group is applied. So no event at the basket's own time (the
 *   member's, or anyone else's) is in the training state.
 * - The hidden items are the basket's distinct items the member did not already have
 *   (as far as their bounded owned list knows). A basket with none is skipped (counted).
 * - hit@N: at least one hidden item among the top N. recall@N: hidden items found in the
 *   top N / hidden items, averaged over members. Coverage: distinct items recommended to
 *   anyone / distinct items in the data. Mean popularity rank: the rank (1 = most members
 *   at the end of the data) of each recommended item, averaged over all N-lists.
 * - The popularity baseline (global top list minus owned items) is scored at the same
 *   moments, from the same state.
 */
import {
  applyDeltaInPlace,
  compareIds,
  emptyItemState,
  pairUpdates,
  unbounded,
  type ItemState,
} from './cooccurrence.js';
import {
  defaultMemberBounds,
  emptyMemberState,
  observeItem,
  type MemberBounds,
  type MemberRecoState,
} from './member.js';
import {
  bumpItem,
  countMember,
  defaultPopularityBounds,
  emptyPopularity,
  type PopularityBounds,
  type PopularityState,
} from './popularity.js';
import { itemStatsOf, popularityBaseline, recommend, type RecoSource, type Recommendations } from './recommend.js';
import type { SimilarityName } from './similarity.js';

/** One item event as the model sees it (a purchase or a completion). */
export interface RecoEvent {
  eventId: string;
  memberId: string;
  itemId: string;
  category: string | null;
  /** Event time, epoch ms. */
  at: number;
}

export interface ModelParams {
  /** K: co-items kept per item (`unbounded` for no bound). */
  coItems: number;
  member: MemberBounds;
  popularity: PopularityBounds;
  similarity: SimilarityName;
}

export const defaultModelParams: Readonly<ModelParams> = {
  coItems: 100,
  member: defaultMemberBounds,
  popularity: defaultPopularityBounds,
  similarity: 'cosine',
};

/** A short, stable name of the parameters, for the model version of recommendation events. */
export function modelVersion(p: ModelParams): string {
  const k = Number.isFinite(p.coItems) ? String(p.coItems) : 'inf';
  return `cf-${p.similarity}-k${k}-r${p.member.recent}-o${p.member.owned}`;
}

export interface Metrics {
  hitRate: number;
  recall: number;
  coverage: number;
  /** Members whose top N had a hidden item. */
  hits: number;
  /** Distinct items recommended to anyone. */
  distinctRecommended: number;
  meanPopularityRank: number;
  /** Members given fewer than N items (lists ran out). */
  shortLists: number;
}

export interface ModelStats {
  items: number;
  /** Co-item entries stored over all items, and the largest list. */
  storedCoItems: number;
  largestList: number;
  evictions: number;
  /** Items whose list ever overflowed. */
  itemsEvicting: number;
}

export interface PassResult {
  params: { coItems: number | null; recent: number; owned: number; similarity: SimilarityName };
  evaluated: number;
  cf: Record<string, Metrics>;
  popularity: Metrics;
  /** Source of the first recommended item, per similarity. */
  sources: Record<string, Record<RecoSource, number>>;
  /** Recommended slots by source, over all N-lists of the chosen similarity. */
  slots: Record<RecoSource, number>;
  model: ModelStats;
  /** Items a member got again after their bounded owned list forgot them (counted twice). */
  recountedItems: number;
  seconds: number;
}

export interface EvaluationOptions {
  top: number;
  params?: ModelParams;
  /** Compared in the main pass (the state does not depend on the similarity). */
  similarities?: SimilarityName[];
  /** K values for the per-item bound sweep (`unbounded` allowed). */
  coItemBounds?: number[];
  /** R values for the recent-items sweep. */
  recentBounds?: number[];
}

export interface EvaluationResult {
  top: number;
  members: {
    total: number;
    /** Members with baskets at two or more instants. */
    withTwoBaskets: number;
    evaluated: number;
    /** Last basket held only items the member already had. */
    noNewItems: number;
  };
  events: number;
  items: number;
  main: PassResult & { ratio: { hitRate: number; recall: number } };
  similarity: Array<{
    similarity: SimilarityName;
    hitRate: number;
    recall: number;
    coverage: number;
    meanPopularityRank: number;
    ratioToPopularity: number;
  }>;
  coItemBound: Array<{
    coItems: number | null;
    hitRate: number;
    recall: number;
    coverage: number;
    storedCoItems: number;
    largestList: number;
    evictions: number;
    seconds: number;
  }>;
  recentBound: Array<{
    recent: number;
    hitRate: number;
    recall: number;
    coverage: number;
    storedCoItems: number;
    seconds: number;
  }>;
  seconds: number;
}

/** Events sorted by time, stable (equal times keep their input order). */
export function timeOrdered(events: readonly RecoEvent[]): RecoEvent[] {
  return events
    .map((e, i) => [e, i] as const)
    .sort((a, b) => a[0].at - b[0].at || a[1] - b[1])
    .map(([e]) => e);
}

/**
 * The same events with one string object per distinct id: map lookups then compare
 * pointers, not characters (ids parsed from a file are separate strings).
 */
function interned(events: readonly RecoEvent[]): RecoEvent[] {
  const pool = new Map<string, string>();
  const one = (s: string): string => {
    const known = pool.get(s);
    if (known !== undefined) return known;
    pool.set(s, s);
    return s;
  };
  return events.map((e) => ({
    ...e,
    memberId: one(e.memberId),
    itemId: one(e.itemId),
    category: e.category === null ? null : one(e.category),
  }));
}

export function evaluateRecommendations(input: readonly RecoEvent[], o: EvaluationOptions): EvaluationResult {
  const started = performance.now();
  const params = o.params ?? defaultModelParams;
  // A copy: the caller's list is not changed when the chosen similarity is added to it.
  const sims = [...(o.similarities ?? [params.similarity])];
  if (!sims.includes(params.similarity)) sims.unshift(params.similarity);
  const events = interned(timeOrdered(input));
  const plan = planOf(events);
  const main = runPass(events, plan, params, sims, o.top, true);
  const base = main.cf[params.similarity]!;

  const coItemBound = (o.coItemBounds ?? []).map((k) => {
    // Always a pass of its own (even for k = params.coItems): the main pass also scores the
    // other similarities and the baseline, so its seconds would not compare with the other rows.
    const r = runPass(events, plan, { ...params, coItems: k }, [params.similarity], o.top, false);
    const m = r.cf[params.similarity]!;
    return {
      coItems: Number.isFinite(k) ? k : null,
      hitRate: m.hitRate,
      recall: m.recall,
      coverage: m.coverage,
      storedCoItems: r.model.storedCoItems,
      largestList: r.model.largestList,
      evictions: r.model.evictions,
      seconds: r.seconds,
    };
  });
  const recentBound = (o.recentBounds ?? []).map((recent) => {
    const p = { ...params, member: { ...params.member, recent } };
    const r = runPass(events, plan, p, [params.similarity], o.top, false);
    const m = r.cf[params.similarity]!;
    return {
      recent,
      hitRate: m.hitRate,
      recall: m.recall,
      coverage: m.coverage,
      storedCoItems: r.model.storedCoItems,
      seconds: r.seconds,
    };
  });
  const pop = main.popularity;
  return {
    top: o.top,
    members: {
      total: plan.members,
      withTwoBaskets: plan.lastAt.size,
      evaluated: main.evaluated,
      noNewItems: plan.lastAt.size - main.evaluated,
    },
    events: events.length,
    items: main.model.items,
    main: { ...main, ratio: { hitRate: ratio(base.hitRate, pop.hitRate), recall: ratio(base.recall, pop.recall) } },
    similarity: sims.map((s) => {
      const m = main.cf[s]!;
      return {
        similarity: s,
        hitRate: m.hitRate,
        recall: m.recall,
        coverage: m.coverage,
        meanPopularityRank: m.meanPopularityRank,
        ratioToPopularity: ratio(m.hitRate, pop.hitRate),
      };
    }),
    coItemBound,
    recentBound,
    seconds: round((performance.now() - started) / 1000, 1),
  };
}

const ratio = (a: number, b: number): number => (b > 0 ? a / b : Number.NaN);
const round = (x: number, digits: number): number => Number(x.toFixed(digits));

interface Plan {
  members: number;
  /** Members with baskets at ≥ 2 instants → the instant of their last basket. */
  lastAt: Map<string, number>;
}

function planOf(events: readonly RecoEvent[]): Plan {
  const first = new Map<string, number>();
  const last = new Map<string, number>();
  for (const e of events) {
    if (!first.has(e.memberId)) first.set(e.memberId, e.at);
    last.set(e.memberId, e.at);
  }
  const lastAt = new Map<string, number>();
  for (const [m, t] of last) if (first.get(m)! < t) lastAt.set(m, t);
  return { members: first.size, lastAt };
}

interface Tally {
  hits: number;
  recall: number;
  shortLists: number;
  /** Item → times recommended. */
  recommended: Map<string, number>;
  sources: Record<RecoSource, number>;
  slots: Record<RecoSource, number>;
}

const emptyTally = (): Tally => ({
  hits: 0,
  recall: 0,
  shortLists: 0,
  recommended: new Map(),
  sources: { cf: 0, category_popularity: 0, popularity: 0 },
  slots: { cf: 0, category_popularity: 0, popularity: 0 },
});

function score(t: Tally, recs: Recommendations, hidden: ReadonlySet<string>, top: number): void {
  let found = 0;
  for (const r of recs.items) {
    if (hidden.has(r.itemId)) found++;
    t.recommended.set(r.itemId, (t.recommended.get(r.itemId) ?? 0) + 1);
    t.slots[r.source]++;
  }
  if (found > 0) t.hits++;
  t.recall += found / hidden.size;
  if (recs.items.length < top) t.shortLists++;
  if (recs.source !== null) t.sources[recs.source]++;
}

/** One pass over the log with one set of parameters: train incrementally, score each member at their last basket. */
export function runPass(
  events: readonly RecoEvent[],
  plan: Plan,
  params: ModelParams,
  sims: readonly SimilarityName[],
  top: number,
  withBaseline: boolean,
): PassResult {
  const started = performance.now();
  const items = new Map<string, ItemState>();
  const members = new Map<string, MemberRecoState>();
  const popularity: PopularityState = emptyPopularity();
  const stats = itemStatsOf(items);
  const tallies = new Map(sims.map((s) => [s, emptyTally()]));
  const baseline = emptyTally();
  const everHad = new Map<string, Set<string>>();
  let recountedItems = 0;
  let evaluated = 0;

  for (let g = 0; g < events.length;) {
    const t = events[g]!.at;
    let h = g;
    while (h < events.length && events[h]!.at === t) h++;

    // Score the members whose last basket is at t, before any event at t is applied.
    const hiddenOf = new Map<string, Set<string>>();
    for (let k = g; k < h; k++) {
      const e = events[k]!;
      if (plan.lastAt.get(e.memberId) !== t) continue;
      let set = hiddenOf.get(e.memberId);
      if (!set) hiddenOf.set(e.memberId, (set = new Set()));
      set.add(e.itemId);
    }
    for (const [memberId, basket] of hiddenOf) {
      const member = members.get(memberId)!;
      const owned = new Set(member.items);
      const hidden = new Set([...basket].filter((i) => !owned.has(i)));
      if (hidden.size === 0) continue;
      evaluated++;
      for (const s of sims)
        score(
          tallies.get(s)!,
          recommend(member, stats, popularity, top, { similarity: s, recent: params.member.recent }),
          hidden,
          top,
        );
      if (withBaseline) score(baseline, popularityBaseline(member, popularity, top), hidden, top);
    }

    for (let k = g; k < h; k++) {
      const e = events[k]!;
      const obs = observeItem(members.get(e.memberId) ?? emptyMemberState(), e.itemId, e.category, params.member);
      members.set(e.memberId, obs.state);
      if (!obs.isNew) continue;
      if (obs.firstItem) countMember(popularity);
      if (withBaseline) {
        let had = everHad.get(e.memberId);
        if (!had) everHad.set(e.memberId, (had = new Set()));
        if (had.has(e.itemId)) recountedItems++;
        had.add(e.itemId);
      }
      for (const d of pairUpdates(
        { eventId: e.eventId, itemId: e.itemId, category: e.category, at: e.at },
        obs.previous,
      )) {
        let s = items.get(d.itemId);
        if (!s) items.set(d.itemId, (s = emptyItemState()));
        applyDeltaInPlace(s, d, params.coItems);
        if (d.addsMember) bumpItem(popularity, d.itemId, s.category, s.n, params.popularity);
      }
    }
    g = h;
  }

  const rank = popularityRanks(items);
  const metrics = (t: Tally): Metrics => {
    let rankSum = 0;
    let slots = 0;
    for (const [id, times] of t.recommended) {
      rankSum += (rank.get(id) ?? items.size) * times;
      slots += times;
    }
    return {
      hitRate: evaluated ? t.hits / evaluated : 0,
      recall: evaluated ? t.recall / evaluated : 0,
      coverage: items.size ? t.recommended.size / items.size : 0,
      hits: t.hits,
      distinctRecommended: t.recommended.size,
      meanPopularityRank: slots ? rankSum / slots : 0,
      shortLists: t.shortLists,
    };
  };
  let stored = 0;
  let largest = 0;
  let evictions = 0;
  let itemsEvicting = 0;
  for (const s of items.values()) {
    stored += s.co.size;
    largest = Math.max(largest, s.co.size);
    evictions += s.evictions;
    if (s.evictions > 0) itemsEvicting++;
  }
  const chosen = tallies.get(params.similarity) ?? tallies.get(sims[0]!)!;
  return {
    params: {
      coItems: Number.isFinite(params.coItems) ? params.coItems : null,
      recent: params.member.recent,
      owned: params.member.owned,
      similarity: params.similarity,
    },
    evaluated,
    cf: Object.fromEntries([...tallies].map(([s, t]) => [s, metrics(t)])),
    popularity: metrics(baseline),
    sources: Object.fromEntries([...tallies].map(([s, t]) => [s, t.sources])),
    slots: chosen.slots,
    model: { items: items.size, storedCoItems: stored, largestList: largest, evictions, itemsEvicting },
    recountedItems,
    seconds: round((performance.now() - started) / 1000, 1),
  };
}

/** 1 = the item with the most members at the end (ties by id). */
function popularityRanks(items: ReadonlyMap<string, ItemState>): Map<string, number> {
  const order = [...items.entries()].sort(([a, sa], [b, sb]) => sb.n - sa.n || compareIds(a, b));
  return new Map(order.map(([id], i) => [id, i + 1]));
}

export { unbounded };
