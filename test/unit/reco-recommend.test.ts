import { describe, expect, it } from 'vitest';
import type { ItemState } from '../../shared/reco/cooccurrence.js';
import { emptyMemberState, type MemberRecoState } from '../../shared/reco/member.js';
import { emptyPopularity, type PopularityState, type TopEntry } from '../../shared/reco/popularity.js';
import { candidateItems, cfScores, itemStatsOf, popularityBaseline, recommend } from '../../shared/reco/recommend.js';

/** An item's state from plain numbers: co-item → count, or [count, error]. */
function item(n: number, co: Record<string, number | [number, number]>, category: string | null = null): ItemState {
  return {
    n,
    category,
    co: new Map(
      Object.entries(co).map(([j, v]) => [
        j,
        typeof v === 'number' ? { count: v, error: 0 } : { count: v[0], error: v[1] },
      ]),
    ),
    evictions: 0,
  };
}

const member = (items: string[], categories: string[] = []): MemberRecoState => ({
  ...emptyMemberState(),
  items,
  categories,
});

function popularity(members: number, global: TopEntry[], categories: Record<string, TopEntry[]> = {}): PopularityState {
  return { members, global, categories: new Map(Object.entries(categories)) };
}

const ids = (r: { items: Array<{ itemId: string }> }) => r.items.map((x) => x.itemId);

/**
 * a and b are the member's items. a: n 4, co {b 3, x 2, y 1}; b: n 2, co {a 3, x 1, z 2};
 * old (an older item): co {w 5}. Candidates: x (n 5), y (n 1), z (n 4), w (n 3).
 */
const states = new Map<string, ItemState>([
  ['a', item(4, { b: 3, x: 2, y: 1 })],
  ['b', item(2, { a: 3, x: 1, z: 2 })],
  ['old', item(3, { w: 5 })],
  ['x', item(5, { a: 2, b: 1 })],
  ['y', item(1, { a: 1 })],
  ['z', item(4, { b: 2 })],
  ['w', item(3, { old: 5 })],
]);
const stats = itemStatsOf(states);
const noPopularity = popularity(10, []);

describe('CF scoring', () => {
  it('sums the similarity over the recent items and excludes owned items (raw counts)', () => {
    const scores = cfScores(member(['a', 'b']), stats, 10, { similarity: 'count', recent: 20 });
    // x: 2 (from a) + 1 (from b); y: 1; z: 2. a and b are owned although each is in the other's list.
    expect(Object.fromEntries(scores)).toEqual({ x: 3, y: 1, z: 2 });
    const r = recommend(member(['a', 'b']), stats, noPopularity, 10, { similarity: 'count', recent: 20 });
    expect(r.items).toEqual([
      { itemId: 'x', score: 3, source: 'cf' },
      { itemId: 'z', score: 2, source: 'cf' },
      { itemId: 'y', score: 1, source: 'cf' },
    ]);
    expect(r.source).toBe('cf');
  });

  it('sums cosine over the recent items: score(j) = Σ c(i, j) / √(n_i · n_j)', () => {
    const scores = cfScores(member(['a', 'b']), stats, 10, { similarity: 'cosine', recent: 20 });
    expect(scores.get('x')).toBeCloseTo(2 / Math.sqrt(4 * 5) + 1 / Math.sqrt(2 * 5), 12);
    expect(scores.get('y')).toBeCloseTo(1 / Math.sqrt(4 * 1), 12);
    expect(scores.get('z')).toBeCloseTo(2 / Math.sqrt(2 * 4), 12);
    // x 0.447 + 0.316 = 0.763, z 0.707, y 0.5.
    expect(ids(recommend(member(['a', 'b']), stats, noPopularity, 3, { similarity: 'cosine', recent: 20 }))).toEqual([
      'x',
      'z',
      'y',
    ]);
  });

  it('only the R most recent items drive the scores', () => {
    const m = member(['old', 'a', 'b']);
    expect([...cfScores(m, stats, 10, { similarity: 'count', recent: 3 }).keys()].sort()).toEqual(['w', 'x', 'y', 'z']);
    expect([...cfScores(m, stats, 10, { similarity: 'count', recent: 2 }).keys()].sort()).toEqual(['x', 'y', 'z']);
    // R = 1: b alone (the most recent).
    expect(Object.fromEntries(cfScores(m, stats, 10, { similarity: 'count', recent: 1 }))).toEqual({ x: 1, z: 2 });
    expect(candidateItems(m, stats.state, 1)).toEqual(['x', 'z']);
  });

  it('scores with the lower bound count − error: an entry whose bound is 0 is no candidate', () => {
    const bounded = itemStatsOf(
      new Map([
        ['a', item(4, { x: [3, 3], y: [5, 2] })],
        ['x', item(5, {})],
        ['y', item(2, {})],
      ]),
    );
    expect(Object.fromEntries(cfScores(member(['a']), bounded, 10, { similarity: 'count', recent: 20 }))).toEqual({
      y: 3,
    });
    expect(candidateItems(member(['a']), bounded.state, 20)).toEqual(['y']);
  });

  it('breaks ties by item id (code-unit order), whatever the list order', () => {
    const tied = itemStatsOf(
      new Map([
        ['a', item(2, { q: 1, B: 1, p: 1, c: 2 })],
        ['q', item(1, {})],
        ['B', item(1, {})],
        ['p', item(1, {})],
        ['c', item(1, {})],
      ]),
    );
    expect(ids(recommend(member(['a']), tied, noPopularity, 4, { similarity: 'count', recent: 20 }))).toEqual([
      'c',
      'B',
      'p',
      'q',
    ]);
  });

  it('keeps only the top N', () => {
    expect(ids(recommend(member(['a', 'b']), stats, noPopularity, 2, { similarity: 'count', recent: 20 }))).toEqual([
      'x',
      'z',
    ]);
  });
});

describe('popularity fill', () => {
  const pop = popularity(
    10,
    [
      ['g1', 9],
      ['x', 8],
      ['a', 7],
      ['c1', 6],
      ['g2', 5],
      ['g3', 1],
    ],
    {
      k1: [
        ['a', 7],
        ['c1', 6],
        ['c2', 2],
      ],
      k2: [
        ['c3', 4],
        ['c2', 3],
      ],
      k3: [['c9', 1]],
    },
  );

  it('fills after CF from the member’s category lists, then the global list, skipping owned and listed items', () => {
    // a's only co-item is x: one CF item, then k1 ∪ k2 by members (c1 6, c3 4, c2 3; a owned), then global.
    const one = itemStatsOf(
      new Map([
        ['a', item(3, { x: 2 })],
        ['x', item(8, { a: 2 })],
      ]),
    );
    const r = recommend(member(['a'], ['k1', 'k2']), one, pop, 6, { similarity: 'cosine', recent: 20 });
    expect(r.items.map((x) => [x.itemId, x.source, x.score])).toEqual([
      ['x', 'cf', 2 / Math.sqrt(3 * 8)],
      ['c1', 'category_popularity', 6],
      ['c3', 'category_popularity', 4],
      ['c2', 'category_popularity', 3],
      ['g1', 'popularity', 9],
      ['g2', 'popularity', 5],
    ]);
    expect(r.source).toBe('cf');
  });

  it('merges a member’s category lists by member count, taking the larger count of an item listed twice', () => {
    const r = recommend(member([], ['k2', 'k1']), itemStatsOf(new Map()), pop, 4, { similarity: 'count', recent: 20 });
    expect(r.items.map((x) => [x.itemId, x.score])).toEqual([
      ['a', 7],
      ['c1', 6],
      ['c3', 4],
      ['c2', 3],
    ]);
  });

  it('gives a cold-start member (no items) category popularity, then global popularity', () => {
    const r = recommend(member([], ['k3']), itemStatsOf(new Map()), pop, 3, { similarity: 'llr', recent: 20 });
    expect(r.items.map((x) => [x.itemId, x.source])).toEqual([
      ['c9', 'category_popularity'],
      ['g1', 'popularity'],
      ['x', 'popularity'],
    ]);
    expect(r.source).toBe('category_popularity');
  });

  it('gives a member with neither items nor categories the global list', () => {
    const r = recommend(emptyMemberState(), stats, pop, 2, { similarity: 'count', recent: 20 });
    expect(r.items.map((x) => [x.itemId, x.source])).toEqual([
      ['g1', 'popularity'],
      ['x', 'popularity'],
    ]);
    expect(r.source).toBe('popularity');
  });

  it('returns a short list when everything runs out', () => {
    const r = recommend(
      member(['g1', 'x', 'a', 'c1']),
      itemStatsOf(new Map()),
      popularity(3, [
        ['g1', 3],
        ['x', 2],
        ['a', 1],
        ['c1', 1],
        ['g2', 1],
      ]),
      5,
      { similarity: 'count', recent: 20 },
    );
    expect(ids(r)).toEqual(['g2']);
  });

  it('an empty model gives an empty list', () => {
    const r = recommend(member(['a'], ['k1']), itemStatsOf(new Map()), emptyPopularity(), 10, {
      similarity: 'cosine',
      recent: 20,
    });
    expect(r).toEqual({ source: null, items: [] });
    expect(popularityBaseline(member(['a']), emptyPopularity(), 10)).toEqual({ source: null, items: [] });
  });
});

describe('the popularity baseline', () => {
  it('is the global list without the member’s items', () => {
    const pop = popularity(
      10,
      [
        ['a', 9],
        ['b', 8],
        ['c', 7],
        ['d', 6],
      ],
      { k: [['z', 100]] },
    );
    const r = popularityBaseline(member(['b'], ['k']), pop, 3);
    expect(r.items).toEqual([
      { itemId: 'a', score: 9, source: 'popularity' },
      { itemId: 'c', score: 7, source: 'popularity' },
      { itemId: 'd', score: 6, source: 'popularity' },
    ]);
    expect(r.source).toBe('popularity');
    expect(ids(popularityBaseline(member(['a', 'c']), pop, 3))).toEqual(['b', 'd']);
  });
});
