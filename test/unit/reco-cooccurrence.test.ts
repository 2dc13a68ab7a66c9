import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  applyDelta,
  applyDeltaInPlace,
  coCount,
  deltaId,
  emptyItemState,
  itemStateFromJson,
  itemStateToJson,
  pairUpdates,
  unbounded,
  type ItemDelta,
  type ItemState,
} from '../../shared/reco/cooccurrence.js';
import { emptyMemberState, observeItem, type MemberBounds, type MemberRecoState } from '../../shared/reco/member.js';

interface Buy {
  member: number;
  item: number;
}

const buys = (members: number, items: number, maxLength: number) =>
  fc.array(
    fc.record({ member: fc.integer({ min: 0, max: members - 1 }), item: fc.integer({ min: 0, max: items - 1 }) }),
    { maxLength },
  );

/** The deltas the incremental path produces for a sequence of purchases. */
function deltasOf(seq: readonly Buy[], bounds: MemberBounds): ItemDelta[] {
  const members = new Map<number, MemberRecoState>();
  const out: ItemDelta[] = [];
  seq.forEach((b, k) => {
    const obs = observeItem(members.get(b.member) ?? emptyMemberState(), `i${b.item}`, `cat${b.item % 3}`, bounds);
    members.set(b.member, obs.state);
    if (obs.isNew)
      out.push(
        ...pairUpdates({ eventId: `e${k}`, itemId: `i${b.item}`, category: `cat${b.item % 3}`, at: k }, obs.previous),
      );
  });
  return out;
}

function applyAll(deltas: readonly ItemDelta[], capacity: number): Map<string, ItemState> {
  const states = new Map<string, ItemState>();
  for (const d of deltas) {
    let s = states.get(d.itemId);
    if (!s) states.set(d.itemId, (s = emptyItemState()));
    applyDeltaInPlace(s, d, capacity);
  }
  return states;
}

/** Plain counts of a state map: item → [n, {co-item: exact count}]. */
function countsOf(states: ReadonlyMap<string, ItemState>): Record<string, [number, Record<string, number>]> {
  const out: Record<string, [number, Record<string, number>]> = {};
  for (const [id, s] of [...states].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const co: Record<string, number> = {};
    for (const j of [...s.co.keys()].sort()) co[j] = coCount(s, j);
    out[id] = [s.n, co];
  }
  return out;
}

/** Batch recount: n_i = members who have i, c(i, j) = members who have both. */
function recount(seq: readonly Buy[]): Record<string, [number, Record<string, number>]> {
  const owned = new Map<number, Set<string>>();
  for (const b of seq) {
    let s = owned.get(b.member);
    if (!s) owned.set(b.member, (s = new Set()));
    s.add(`i${b.item}`);
  }
  const n = new Map<string, number>();
  const c = new Map<string, Map<string, number>>();
  for (const set of owned.values()) {
    for (const i of set) {
      n.set(i, (n.get(i) ?? 0) + 1);
      for (const j of set) {
        if (i === j) continue;
        let row = c.get(i);
        if (!row) c.set(i, (row = new Map<string, number>()));
        row.set(j, (row.get(j) ?? 0) + 1);
      }
    }
  }
  const out: Record<string, [number, Record<string, number>]> = {};
  for (const i of [...n.keys()].sort()) {
    const co: Record<string, number> = {};
    for (const j of [...(c.get(i)?.keys() ?? [])].sort()) co[j] = c.get(i)!.get(j)!;
    out[i] = [n.get(i)!, co];
  }
  return out;
}

const noBounds: MemberBounds = { owned: unbounded, recent: unbounded, categories: 3 };

describe('pair updates', () => {
  it('one delta for the new item and one per previous item, each with its own deterministic id', () => {
    const ds = pairUpdates({ eventId: 'or:536365:3', itemId: 'x', category: 'stock:85', at: 7 }, ['a', 'b', 'a', 'x']);
    expect(ds).toEqual([
      { id: 'co:11:or:536365:3:x', itemId: 'x', addsMember: true, category: 'stock:85', coItems: ['a', 'b'], at: 7 },
      { id: 'co:11:or:536365:3:a', itemId: 'a', addsMember: false, category: null, coItems: ['x'], at: 7 },
      { id: 'co:11:or:536365:3:b', itemId: 'b', addsMember: false, category: null, coItems: ['x'], at: 7 },
    ]);
    expect(pairUpdates({ eventId: 'or:536365:3', itemId: 'x', category: 'stock:85', at: 7 }, ['a', 'b'])).toEqual(ds);
  });

  it('delta ids cannot collide across events whatever the ids contain', () => {
    expect(deltaId('a:b', 'c')).not.toBe(deltaId('a', 'b:c'));
    expect(deltaId('e1', 'x')).not.toBe(deltaId('e1', 'y'));
  });

  it('a first item only counts the member', () => {
    const [d] = pairUpdates({ eventId: 'e', itemId: 'x', category: null, at: 0 }, []);
    const s = applyDelta(emptyItemState(), d!);
    expect(s.n).toBe(1);
    expect(s.co.size).toBe(0);
  });

  it('applyDelta leaves its input alone and matches the in-place transition', () => {
    const [dx] = pairUpdates({ eventId: 'e1', itemId: 'x', category: 'c', at: 0 }, ['a']);
    const before = applyDelta(emptyItemState(), dx!);
    const snapshot = itemStateToJson(before);
    // Another member who had x first now gets a: x's share of that update.
    const later = pairUpdates({ eventId: 'e2', itemId: 'a', category: 'c', at: 1 }, ['x'])[1]!;
    expect(later).toMatchObject({ itemId: 'x', coItems: ['a'], addsMember: false });
    const after = applyDelta(before, later);
    expect(itemStateToJson(before)).toEqual(snapshot);
    expect(itemStateToJson(after)).toEqual(itemStateToJson(applyDeltaInPlace(itemStateFromJson(snapshot), later)));
    expect(after.n).toBe(1);
    expect(coCount(after, 'a')).toBe(2);
  });
});

describe('incremental counts', () => {
  it('equal a batch recount of the same purchases (no bounds)', () => {
    fc.assert(
      fc.property(buys(6, 9, 80), (seq) => {
        expect(countsOf(applyAll(deltasOf(seq, noBounds), unbounded))).toEqual(recount(seq));
      }),
      { numRuns: 300 },
    );
  });

  it('do not depend on delivery order, and a replayed delta is recognised by its id (no bounds)', () => {
    fc.assert(
      fc.property(
        buys(5, 8, 60),
        fc.array(fc.nat(), { maxLength: 30 }),
        fc.integer({ min: 0, max: 10_000 }),
        (seq, dupPicks, seed) => {
          const deltas = deltasOf(seq, noBounds);
          const replayed = [...deltas, ...dupPicks.flatMap((p) => (deltas.length ? [deltas[p % deltas.length]!] : []))];
          for (let i = replayed.length - 1; i > 0; i--) {
            const j = (seed + i * 7919) % (i + 1);
            [replayed[i], replayed[j]] = [replayed[j]!, replayed[i]!];
          }
          const seen = new Set<string>();
          const fresh = replayed.filter((d) => (seen.has(d.id) ? false : (seen.add(d.id), true)));
          expect(fresh).toHaveLength(deltas.length);
          expect(countsOf(applyAll(fresh, unbounded))).toEqual(recount(seq));
          // Without the id check, any replay would inflate the counts.
          if (replayed.length > deltas.length)
            expect(countsOf(applyAll(replayed, unbounded))).not.toEqual(recount(seq));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('with a recent-items bound, counts stay symmetric and never exceed either item’s members', () => {
    fc.assert(
      fc.property(buys(5, 10, 80), fc.integer({ min: 1, max: 4 }), (seq, recent) => {
        const states = applyAll(deltasOf(seq, { owned: unbounded, recent, categories: 1 }), unbounded);
        for (const [i, s] of states) {
          for (const j of s.co.keys()) {
            expect(coCount(states.get(j)!, i)).toBe(coCount(s, j));
            expect(coCount(s, j)).toBeLessThanOrEqual(Math.min(s.n, states.get(j)!.n));
          }
        }
        const exact = recount(seq);
        for (const [i, s] of states)
          for (const j of s.co.keys()) expect(coCount(s, j)).toBeLessThanOrEqual(exact[i]![1][j]!);
      }),
      { numRuns: 200 },
    );
  });
});

/** Reference for the bound: Space-Saving with a full scan for every eviction. */
function naiveSpaceSaving(stream: readonly string[], capacity: number): Map<string, { count: number; error: number }> {
  const m = new Map<string, { count: number; error: number }>();
  for (const j of stream) {
    const e = m.get(j);
    if (e) e.count++;
    else if (m.size < capacity) m.set(j, { count: 1, error: 0 });
    else {
      let victim = '';
      let min = Number.POSITIVE_INFINITY;
      for (const [id, v] of m) if (v.count < min || (v.count === min && id > victim)) [victim, min] = [id, v.count];
      m.delete(victim);
      m.set(j, { count: min + 1, error: min });
    }
  }
  return m;
}

function feed(stream: readonly string[], capacity: number): ItemState {
  const s = emptyItemState();
  stream.forEach((j, k) =>
    applyDeltaInPlace(
      s,
      { id: `d${k}`, itemId: 'x', addsMember: false, category: null, coItems: [j], at: 0 },
      capacity,
    ),
  );
  return s;
}

describe('per-item bound (Space-Saving)', () => {
  it('evicts the smallest count, ties by the largest id, and the newcomer takes over that count', () => {
    const s = feed(['a', 'b', 'a', 'c'], 2);
    expect(itemStateToJson(s).co).toEqual([
      ['a', 2],
      ['c', 2, 1],
    ]);
    expect(coCount(s, 'c')).toBe(1);
    applyDeltaInPlace(s, { id: 'd', itemId: 'x', addsMember: false, category: null, coItems: ['d'], at: 0 }, 2);
    // a and c tie at 2: c (larger id) goes; d enters at 3 with error 2.
    expect(itemStateToJson(s)).toEqual({
      n: 0,
      category: null,
      co: [
        ['d', 3, 2],
        ['a', 2],
      ],
      evictions: 2,
    });
  });

  it('keeps at most K entries, bounds every true count, and keeps every co-item above increments / K', () => {
    const stream = fc.array(
      fc.oneof(
        fc.constantFrom('a', 'b', 'c'),
        fc.integer({ min: 0, max: 40 }).map((k) => `t${k}`),
      ),
      { maxLength: 300 },
    );
    fc.assert(
      fc.property(stream, fc.integer({ min: 1, max: 12 }), (js, capacity) => {
        const s = feed(js, capacity);
        const truth = new Map<string, number>();
        for (const j of js) truth.set(j, (truth.get(j) ?? 0) + 1);
        expect(s.co.size).toBeLessThanOrEqual(capacity);
        let sum = 0;
        for (const [j, e] of s.co) {
          sum += e.count;
          expect(e.count - e.error).toBeLessThanOrEqual(truth.get(j)!);
          expect(e.count).toBeGreaterThanOrEqual(truth.get(j)!);
        }
        expect(sum).toBe(js.length);
        for (const [j, t] of truth) if (t > js.length / capacity) expect(s.co.has(j)).toBe(true);
        // The eviction queue is only a cache: a full scan per eviction gives the same lists.
        const naive = naiveSpaceSaving(js, capacity);
        expect(new Map([...s.co].map(([j, e]) => [j, { count: e.count, error: e.error }]))).toEqual(naive);
      }),
      { numRuns: 300 },
    );
  });

  it('a bounded state is exact until its list first fills', () => {
    const s = feed(['a', 'b', 'a', 'b', 'c'], 3);
    expect(s.evictions).toBe(0);
    expect([...s.co.values()].every((e) => e.error === 0)).toBe(true);
  });

  it('refuses a capacity below 1', () => {
    expect(() => feed(['a'], 0)).toThrow(RangeError);
  });
});

describe('stored form', () => {
  it('is canonical (sorted by count, then id) and round-trips', () => {
    const one = feed(['b', 'a', 'c', 'a', 'd'], 3);
    const json = itemStateToJson(one);
    expect(json.co.map(([j]) => j)).toEqual(['a', 'd', 'b']);
    const back = itemStateFromJson(JSON.parse(JSON.stringify(json)) as typeof json);
    expect(itemStateToJson(back)).toEqual(json);
    // Continuing from the stored form gives what continuing in memory gives.
    const more = ['e', 'b', 'f', 'a'];
    for (const s of [one, back])
      more.forEach((j, k) =>
        applyDeltaInPlace(s, { id: `m${k}`, itemId: 'x', addsMember: false, category: null, coItems: [j], at: 0 }, 3),
      );
    expect(itemStateToJson(back)).toEqual(itemStateToJson(one));
  });
});
