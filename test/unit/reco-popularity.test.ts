import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bumpItem,
  countMember,
  emptyPopularity,
  listedMembers,
  popularityFromJson,
  popularityToJson,
  type TopEntry,
} from '../../shared/reco/popularity.js';

/** The top `size` of final counts, by members desc then id. */
function topOf(counts: Map<string, number>, size: number): TopEntry[] {
  return [...counts.entries()].sort(([a, na], [b, nb]) => nb - na || (a < b ? -1 : a > b ? 1 : 0)).slice(0, size);
}

describe('popularity top lists', () => {
  it('ranks by members, ties by id, and keeps at most the bound', () => {
    const p = emptyPopularity();
    const bounds = { global: 3, category: 2 };
    bumpItem(p, 'b', 'x', 2, bounds);
    bumpItem(p, 'a', 'x', 2, bounds);
    bumpItem(p, 'c', 'y', 5, bounds);
    bumpItem(p, 'd', 'x', 1, bounds);
    expect(p.global).toEqual([
      ['c', 5],
      ['a', 2],
      ['b', 2],
    ]);
    expect(p.categories.get('x')).toEqual([
      ['a', 2],
      ['b', 2],
    ]);
    bumpItem(p, 'd', 'x', 3, bounds);
    expect(p.global).toEqual([
      ['c', 5],
      ['d', 3],
      ['a', 2],
    ]);
    expect(p.categories.get('x')).toEqual([
      ['d', 3],
      ['a', 2],
    ]);
    expect(listedMembers(p.global, 'b')).toBe(0);
  });

  it('keeps the larger count: a stale or repeated update changes nothing', () => {
    const p = emptyPopularity();
    bumpItem(p, 'a', null, 4);
    bumpItem(p, 'a', null, 2);
    bumpItem(p, 'a', null, 4);
    expect(p.global).toEqual([['a', 4]]);
    expect(p.categories.size).toBe(0);
  });

  it('counts members once each', () => {
    const p = emptyPopularity();
    countMember(countMember(p));
    expect(p.members).toBe(2);
  });

  it('a bounded list fed every count, in any order, is the exact top of the final counts', () => {
    const update = fc.record({ item: fc.integer({ min: 0, max: 14 }), cat: fc.constantFrom('x', 'y') });
    fc.assert(
      fc.property(
        fc.array(update, { maxLength: 120 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 0, max: 1000 }),
        (ups, size, seed) => {
          // Each update is "this item gained a member": its owner reports the new count.
          const counts = new Map<string, number>();
          const reports: Array<[string, string, number]> = [];
          for (const u of ups) {
            const id = `i${u.item}`;
            const n = (counts.get(id) ?? 0) + 1;
            counts.set(id, n);
            reports.push([id, `c${u.item % 2}`, n]);
          }
          // Delivered in a scrambled order, some twice.
          const delivered = [...reports, ...reports.filter((_, i) => (i + seed) % 3 === 0)];
          for (let i = delivered.length - 1; i > 0; i--) {
            const j = (seed * 7919 + i * 104_729) % (i + 1);
            [delivered[i], delivered[j]] = [delivered[j]!, delivered[i]!];
          }
          const p = emptyPopularity();
          for (const [id, cat, n] of delivered) bumpItem(p, id, cat, n, { global: size, category: size });
          expect(p.global).toEqual(topOf(counts, size));
          for (const cat of ['c0', 'c1']) {
            const inCat = new Map([...counts].filter(([id]) => `c${Number(id.slice(1)) % 2}` === cat));
            expect(p.categories.get(cat) ?? []).toEqual(topOf(inCat, size));
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('round-trips through its JSON form', () => {
    const p = emptyPopularity();
    countMember(p);
    bumpItem(p, 'a', 'y', 3);
    bumpItem(p, 'b', 'x', 1);
    const json = popularityToJson(p);
    expect(json.categories.map(([c]) => c)).toEqual(['x', 'y']);
    expect(popularityFromJson(JSON.parse(JSON.stringify(json)) as typeof json)).toEqual(p);
  });
});
