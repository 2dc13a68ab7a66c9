import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  defaultModelParams,
  evaluateRecommendations,
  modelVersion,
  timeOrdered,
  unbounded,
  type EvaluationResult,
  type ModelParams,
  type RecoEvent,
} from '../../shared/reco/evaluate.js';
import type { SimilarityName } from '../../shared/reco/similarity.js';

let seq = 0;
/** (time, member, item) → an event with a fresh id and no category. */
const ev = (at: number, memberId: string, itemId: string): RecoEvent => ({
  eventId: `e${seq++}`,
  memberId,
  itemId,
  category: null,
  at,
});

/**
 * The hand-worked log (no categories, K unbounded, N = 1):
 *
 *   t=1  u1: A, C   u2: P   u3: P   u4: P, D      (one basket each: never evaluated)
 *   t=2  m1: A      m2: D   m3: Z
 *   t=3  m1: C, E   (m1's last basket: hidden {C, E})
 *   t=4  m2: P      (m2's last basket: hidden {P})
 *   t=5  m3: Z      (m3's last basket holds only Z, which m3 has: skipped)
 *
 * Before t=3: members 7; n: P 3, A 2, D 2, C 1, Z 1; c(A, C) = 1, c(P, D) = 1.
 * m1 (has A): CF → C (the only co-item of A) = hit, recall 1/2. Baseline: P (A owned) = miss.
 * t=3 adds C and E to m1. Before t=4: m2 (has D): CF → P (D's only co-item) = hit, recall 1.
 * Baseline: P = hit. So CF hit rate 2/2, recall (1/2 + 1)/2; baseline 1/2, recall (0 + 1)/2.
 * Items at the end: A, C, P, D, E, Z (6). CF recommended {C, P}: coverage 2/6; baseline {P}: 1/6.
 * Final members per item: P 4, A 2, C 2, D 2, E 1, Z 1 → ranks P 1, A 2, C 3, D 4, E 5, Z 6
 * (ties by id): CF's mean popularity rank (3 + 1)/2 = 2, the baseline's 1.
 */
function handLog(): RecoEvent[] {
  return [
    ev(1, 'u1', 'A'),
    ev(1, 'u1', 'C'),
    ev(1, 'u2', 'P'),
    ev(1, 'u3', 'P'),
    ev(1, 'u4', 'P'),
    ev(1, 'u4', 'D'),
    ev(2, 'm1', 'A'),
    ev(2, 'm2', 'D'),
    ev(2, 'm3', 'Z'),
    ev(3, 'm1', 'C'),
    ev(3, 'm1', 'E'),
    ev(4, 'm2', 'P'),
    ev(5, 'm3', 'Z'),
  ];
}

const params = (p: Partial<ModelParams> = {}): ModelParams => ({
  ...defaultModelParams,
  coItems: unbounded,
  similarity: 'count',
  ...p,
});

/** The result without wall-clock seconds (the only part that may differ between equal runs). */
function withoutSeconds(r: EvaluationResult): unknown {
  return JSON.parse(JSON.stringify(r, (k, v: unknown) => (k === 'seconds' ? 0 : v)));
}

describe('leave-last-basket-out on a hand-worked log', () => {
  const r = evaluateRecommendations(handLog(), {
    top: 1,
    params: params(),
    similarities: ['count', 'cosine', 'jaccard', 'llr'],
  });

  it('counts members, baskets and skips', () => {
    expect(r.members).toEqual({ total: 7, withTwoBaskets: 3, evaluated: 2, noNewItems: 1 });
    expect(r.events).toBe(13);
    expect(r.items).toBe(6);
  });

  it('gives the hand-computed hit rate, recall, coverage and popularity rank', () => {
    const cf = r.main.cf.count!;
    expect(cf.hits).toBe(2);
    expect(cf.hitRate).toBe(1);
    expect(cf.recall).toBeCloseTo(0.75, 12);
    expect(cf.distinctRecommended).toBe(2);
    expect(cf.coverage).toBeCloseTo(2 / 6, 12);
    expect(cf.meanPopularityRank).toBe(2);
    expect(cf.shortLists).toBe(0);
    const pop = r.main.popularity;
    expect(pop.hits).toBe(1);
    expect(pop.hitRate).toBe(0.5);
    expect(pop.recall).toBe(0.5);
    expect(pop.coverage).toBeCloseTo(1 / 6, 12);
    expect(pop.meanPopularityRank).toBe(1);
    expect(r.main.ratio).toEqual({ hitRate: 2, recall: 1.5 });
  });

  it('the other similarities, which all score c > 0 pairs positively here, give the same lists', () => {
    for (const s of ['cosine', 'jaccard', 'llr'] as const) expect(r.main.cf[s], s).toEqual(r.main.cf.count);
    expect(r.similarity.map((s) => [s.similarity, s.hitRate, s.ratioToPopularity])).toEqual([
      ['count', 1, 2],
      ['cosine', 1, 2],
      ['jaccard', 1, 2],
      ['llr', 1, 2],
    ]);
    expect(r.main.sources.count).toEqual({ cf: 2, category_popularity: 0, popularity: 0 });
  });

  it('reports the model at the end of the log', () => {
    // Co-items: A {C, E}, C {A, E}, E {A, C}, P {D}, D {P}.
    expect(r.main.model).toEqual({ items: 6, storedCoItems: 8, largestList: 2, evictions: 0, itemsEvicting: 0 });
  });

  it('does not change the caller’s list of similarities', () => {
    const sims: SimilarityName[] = ['llr'];
    const out = evaluateRecommendations(handLog(), {
      top: 1,
      params: params({ similarity: 'cosine' }),
      similarities: sims,
    });
    expect(sims).toEqual(['llr']);
    expect(out.similarity.map((s) => s.similarity)).toEqual(['cosine', 'llr']);
  });
});

describe('no leakage', () => {
  /** Three one-basket members who buy A with Q: if they were in m1's training state, m1's top 1 would be Q (a miss). */
  const noise = (at: number) => ['n1', 'n2', 'n3'].flatMap((m) => [ev(at, m, 'A'), ev(at, m, 'Q')]);

  it('events at the evaluated basket’s own instant (anyone’s) never reach the score', () => {
    const log = [...handLog(), ...noise(3)];
    const r = evaluateRecommendations(log, { top: 1, params: params() });
    expect(r.members.evaluated).toBe(2);
    expect(r.main.cf.count!.hitRate).toBe(1);
    expect(r.main.cf.count!.recall).toBeCloseTo(0.75, 12);
  });

  it('the same events a moment earlier do reach it (the check above can fail)', () => {
    const log = [...handLog(), ...noise(2.5)];
    const r = evaluateRecommendations(log, { top: 1, params: params() });
    expect(r.main.cf.count!.hitRate).toBe(0.5);
  });

  it('the member’s own basket is hidden: an item bought at the last instant is not owned when scoring', () => {
    // m1's basket at t=3 holds C; if it were applied first, C would be owned, hidden would be {E} only and CF would miss.
    const r = evaluateRecommendations(handLog(), { top: 1, params: params() });
    expect(r.main.cf.count!.recall).toBeCloseTo(0.75, 12);
  });
});

describe('who is evaluated', () => {
  it('members with one basket are not evaluated, even with several invoices at that one instant', () => {
    const log = [ev(1, 'a', 'X'), ev(1, 'a', 'Y'), ev(1, 'a', 'Z'), ev(1, 'b', 'X'), ev(1, 'b', 'Y'), ev(2, 'c', 'Y')];
    const r = evaluateRecommendations(log, { top: 10, params: params() });
    expect(r.members).toEqual({ total: 3, withTwoBaskets: 0, evaluated: 0, noNewItems: 0 });
    expect(r.main.cf.count!.hitRate).toBe(0);
    expect(r.main.popularity.hitRate).toBe(0);
    expect(r.main.ratio.hitRate).toBeNaN();
  });

  it('a member is evaluated once, at the last of several baskets', () => {
    const log = [ev(1, 'u', 'A'), ev(1, 'u', 'B'), ev(2, 'm', 'A'), ev(3, 'm', 'C'), ev(4, 'm', 'B')];
    const r = evaluateRecommendations(log, { top: 1, params: params() });
    // At t=4 m has A, C; A's co-item B (from u) is the only CF candidate: a hit.
    expect(r.members.evaluated).toBe(1);
    expect(r.main.cf.count!.hits).toBe(1);
  });
});

describe('time order', () => {
  it('sorts by time and keeps input order among equal times', () => {
    const log = [ev(3, 'a', 'x'), ev(1, 'b', 'y'), ev(3, 'c', 'z'), ev(1, 'd', 'w'), ev(2, 'e', 'v')];
    expect(timeOrdered(log).map((e) => e.memberId)).toEqual(['b', 'd', 'e', 'a', 'c']);
    expect(log.map((e) => e.memberId)).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('any input order with the same per-instant order gives the same result', () => {
    const base = handLog();
    const expected = withoutSeconds(
      evaluateRecommendations(base, {
        top: 2,
        params: params({ coItems: 1 }),
        similarities: ['cosine', 'count'],
        coItemBounds: [1, unbounded],
        recentBounds: [1, 20],
      }),
    );
    fc.assert(
      fc.property(fc.array(fc.nat(), { minLength: base.length, maxLength: base.length }), (keys) => {
        // Shuffle by random keys, then restore the order within each instant: only the interleaving of instants changes.
        const shuffled = base
          .map((e, i) => [e, keys[i]!] as const)
          .sort((a, b) => a[1] - b[1])
          .map(([e]) => e);
        const rank = new Map(base.map((e, i) => [e, i]));
        const byInstant = new Map<number, RecoEvent[]>();
        for (const e of base) byInstant.set(e.at, [...(byInstant.get(e.at) ?? []), e]);
        const cursor = new Map<number, number>();
        const reordered = shuffled.map((e) => {
          const k = cursor.get(e.at) ?? 0;
          cursor.set(e.at, k + 1);
          return byInstant.get(e.at)![k]!;
        });
        expect(reordered.map((e) => rank.get(e)).sort((a, b) => a! - b!)).toEqual(base.map((_, i) => i));
        const got = evaluateRecommendations(reordered, {
          top: 2,
          params: params({ coItems: 1 }),
          similarities: ['cosine', 'count'],
          coItemBounds: [1, unbounded],
          recentBounds: [1, 20],
        });
        expect(withoutSeconds(got)).toEqual(expected);
      }),
      { numRuns: 25 },
    );
  });
});

describe('bound sweeps', () => {
  it('report one row per K and per R, K unbounded as null, and evictions only under a bound', () => {
    const r = evaluateRecommendations(handLog(), {
      top: 1,
      params: params({ similarity: 'count' }),
      coItemBounds: [1, unbounded],
      recentBounds: [1, 2],
    });
    expect(r.coItemBound.map((b) => [b.coItems, b.largestList, b.evictions > 0])).toEqual([
      [1, 1, true],
      [null, 2, false],
    ]);
    expect(r.coItemBound[1]!.storedCoItems).toBe(8);
    expect(r.coItemBound[1]!.hitRate).toBe(r.main.cf.count!.hitRate);
    expect(r.recentBound.map((b) => b.recent)).toEqual([1, 2]);
  });

  it('names the parameters in the model version', () => {
    expect(modelVersion(defaultModelParams)).toBe('cf-cosine-k100-r20-o1000');
    expect(modelVersion(params({ similarity: 'llr' }))).toBe('cf-llr-kinf-r20-o1000');
  });
});
