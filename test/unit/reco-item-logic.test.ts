import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defaultRules, type Rules } from '../../shared/config/rules.js';
import { projectionChanges } from '../../shared/runtime/batch-processor.js';
import { referenceRun } from '../../shared/kernel/reference-run.js';
import type { DecideContext, Decoded, InputRecord, OutputEvent } from '../../shared/kernel/types.js';
import {
  applyDeltaInPlace,
  emptyItemState,
  itemStateToJson,
  pairUpdates,
  type ItemDelta,
  type ItemState,
  type ItemStateJson,
} from '../../shared/reco/cooccurrence.js';
import { emptyMemberState, observeItem, recoItemOf, type MemberRecoState } from '../../shared/reco/member.js';
import { emptyPopularity } from '../../shared/reco/popularity.js';
import type { ItemUpdateValue, RecoInput } from '../../services/recommendations/inputs.js';
import {
  decideRecoItem,
  emptyRecoItemState,
  recoItemsLogic,
  type RecoItemState,
} from '../../services/recommendations/item-logic.js';
import { recoMembersLogic } from '../../services/recommendations/member-logic.js';
import { modelParamsOf, type RecoView } from '../../services/recommendations/model.js';
import { behaviorEvent } from '../support/behavior-event.js';
import { inputRecord } from './fixtures.js';

const rules = defaultRules();
const t0 = Date.UTC(2026, 2, 1, 8, 0, 0);
const hourMs = 3_600_000;

function withReco(patch: Partial<Rules['reco']>, base: Rules = rules): Rules {
  return { ...base, reco: { ...base.reco, ...patch } };
}

const ctx = (r: Rules = rules): DecideContext => ({
  rules: r,
  record: { timestamp: t0, sizeBytes: 100, topic: 'test.reco.item-updates', partition: 0, offset: '0' },
});

function update(
  itemId: string,
  o: {
    partition: number;
    offset: number;
    addsMember?: boolean;
    category?: string | null;
    coItems?: string[];
    source?: string;
  },
): ItemUpdateValue {
  const source = o.source ?? `bhv:${o.partition}:${o.offset}`;
  return {
    eventId: `co:${source.length}:${source}:${itemId}`,
    itemId,
    addsMember: o.addsMember ?? false,
    category: o.category ?? null,
    coItems: o.coItems ?? [],
    userId: 'm1',
    sourceEventId: source,
    sourcePartition: o.partition,
    sourceOffset: o.offset,
    occurredAt: t0,
  };
}

const deltaOf = (u: ItemUpdateValue): ItemDelta => ({
  id: u.eventId,
  itemId: u.itemId,
  addsMember: u.addsMember,
  category: u.category,
  coItems: u.coItems,
  at: u.occurredAt,
});

function apply(state: RecoItemState, u: ItemUpdateValue, r: Rules = rules): RecoItemState {
  const d = decideRecoItem(state, u, ctx(r));
  if (d.kind !== 'applied') throw new Error(`rejected: ${d.rejection.reason}`);
  expect(d.outputs).toEqual([]);
  return d.state;
}

const withoutApplied = ({ applied: _applied, ...rest }: RecoItemState): ItemStateJson => rest;

describe('reco-items: applying updates', () => {
  it('increments n and the co-counts exactly as applyDeltaInPlace does, and records the source offset per partition', () => {
    const us = [
      update('x', { partition: 0, offset: 5, addsMember: true, category: 'math', coItems: ['a', 'b'] }),
      update('x', { partition: 0, offset: 7, coItems: ['a'] }),
      update('x', { partition: 0, offset: 9, addsMember: true, category: 'art', coItems: ['c', 'a'] }),
    ];
    const expected = emptyItemState();
    let s = emptyRecoItemState();
    const got: RecoItemState[] = [];
    for (const u of us) {
      s = apply(s, u);
      applyDeltaInPlace(expected, deltaOf(u), rules.reco.coItemsPerItem);
      expect(withoutApplied(s)).toEqual(itemStateToJson(expected));
      got.push(s);
    }
    expect(got[0]).toEqual({
      n: 1,
      category: 'math',
      co: [
        ['a', 1],
        ['b', 1],
      ],
      evictions: 0,
      applied: { '0': 5 },
    });
    expect(got[1]).toEqual({
      n: 1,
      category: 'math',
      co: [
        ['a', 2],
        ['b', 1],
      ],
      evictions: 0,
      applied: { '0': 7 },
    });
    // The first category stays; a second member adds to n.
    expect(got[2]).toEqual({
      n: 2,
      category: 'math',
      co: [
        ['a', 3],
        ['b', 1],
        ['c', 1],
      ],
      evictions: 0,
      applied: { '0': 9 },
    });
  });

  it('uses rules reco.coItemsPerItem as the co-item bound', () => {
    const r = withReco({ coItemsPerItem: 2 });
    const us = [
      update('x', { partition: 0, offset: 1, addsMember: true, coItems: ['a', 'b'] }),
      update('x', { partition: 0, offset: 2, coItems: ['a'] }),
      update('x', { partition: 0, offset: 3, coItems: ['c'] }),
    ];
    const expected = emptyItemState();
    let s = emptyRecoItemState();
    for (const u of us) {
      s = apply(s, u, r);
      applyDeltaInPlace(expected, deltaOf(u), 2);
    }
    // b (count 1) is evicted; c takes over its count + 1, with error 1.
    expect(s).toEqual({
      n: 1,
      category: null,
      co: [
        ['a', 2],
        ['c', 2, 1],
      ],
      evictions: 1,
      applied: { '0': 3 },
    });
    expect(withoutApplied(s)).toEqual(itemStateToJson(expected));
  });

  it('an update at or below the last source offset applied from its partition changes nothing', () => {
    let s = apply(
      emptyRecoItemState(),
      update('x', { partition: 0, offset: 5, addsMember: true, category: 'math', coItems: ['a'] }),
    );
    s = apply(s, update('x', { partition: 0, offset: 8, coItems: ['b'] }));
    const before = structuredClone(s);
    for (const stale of [
      update('x', { partition: 0, offset: 8, coItems: ['b'] }), // the same update again
      update('x', { partition: 0, offset: 5, addsMember: true, category: 'math', coItems: ['a'] }), // an older one again
      update('x', { partition: 0, offset: 0, addsMember: true, category: 'art', coItems: ['z'], source: 'other' }), // anything at a lower position
    ]) {
      const d = decideRecoItem(s, stale, ctx());
      expect(d).toEqual({ kind: 'applied', state: before, outputs: [] });
    }
    expect(s).toEqual({
      n: 1,
      category: 'math',
      co: [
        ['a', 1],
        ['b', 1],
      ],
      evictions: 0,
      applied: { '0': 8 },
    });
    // The next position applies again.
    expect(apply(s, update('x', { partition: 0, offset: 9, coItems: ['b'] }))).toEqual({
      n: 1,
      category: 'math',
      co: [
        ['b', 2],
        ['a', 1],
      ],
      evictions: 0,
      applied: { '0': 9 },
    });
  });

  it('partitions are independent: a low offset of another partition applies', () => {
    let s = apply(emptyRecoItemState(), update('x', { partition: 0, offset: 100, addsMember: true, coItems: ['a'] }));
    s = apply(s, update('x', { partition: 1, offset: 3, coItems: ['a'] }));
    expect(s).toEqual({ n: 1, category: null, co: [['a', 2]], evictions: 0, applied: { '0': 100, '1': 3 } });
    s = apply(s, update('x', { partition: 2, offset: 0, addsMember: true, category: 'art', coItems: ['b'] }));
    expect(s).toEqual({
      n: 2,
      category: 'art',
      co: [
        ['a', 2],
        ['b', 1],
      ],
      evictions: 0,
      applied: { '0': 100, '1': 3, '2': 0 },
    });
    // Each partition keeps its own watermark.
    expect(apply(s, update('x', { partition: 1, offset: 3, coItems: ['a'] }))).toEqual(s);
    expect(apply(s, update('x', { partition: 2, offset: 0, coItems: ['a'] }))).toEqual(s);
    expect(apply(s, update('x', { partition: 1, offset: 4, coItems: ['c'] })).co).toEqual([
      ['a', 2],
      ['b', 1],
      ['c', 1],
    ]);
  });
});

describe('reco-items: projections', () => {
  const state = (n: number, category: string | null): RecoItemState => ({
    n,
    category,
    co: [['a', 1]],
    evictions: 0,
    applied: { '0': 1 },
  });

  it('popularity row scored −n, and a row in the item category', () => {
    expect(recoItemsLogic.projections!('x', state(3, 'math'))).toEqual([
      { name: 'popularity', member: 'x', score: -3 },
      { name: 'category:math', member: 'x', score: -3 },
    ]);
    expect(recoItemsLogic.projections!('x', state(2, null))).toEqual([{ name: 'popularity', member: 'x', score: -2 }]);
    // An item that only received co-item updates has no members yet: no rows.
    expect(recoItemsLogic.projections!('x', state(0, null))).toEqual([]);
    expect(recoItemsLogic.projections!('x', emptyRecoItemState())).toEqual([]);
  });

  it('projectionChanges: upserts of the new score, nothing removed while the category stays', () => {
    expect(projectionChanges(recoItemsLogic, 'x', state(2, 'math'), state(3, 'math'))).toEqual({
      upsert: [
        { name: 'popularity', member: 'x', score: -3 },
        { name: 'category:math', member: 'x', score: -3 },
      ],
      remove: [],
    });
    expect(projectionChanges(recoItemsLogic, 'x', null, state(1, 'math'))).toEqual({
      upsert: [
        { name: 'popularity', member: 'x', score: -1 },
        { name: 'category:math', member: 'x', score: -1 },
      ],
      remove: [],
    });
    // A co-item-only change (same n): nothing to write.
    const s = state(2, 'math');
    expect(projectionChanges(recoItemsLogic, 'x', s, { ...s, co: [['a', 2]] })).toEqual({ upsert: [], remove: [] });
    // A category learned later: its row is added, the popularity row rewritten with the new n.
    expect(projectionChanges(recoItemsLogic, 'x', state(1, null), state(2, 'art'))).toEqual({
      upsert: [
        { name: 'popularity', member: 'x', score: -2 },
        { name: 'category:art', member: 'x', score: -2 },
      ],
      remove: [],
    });
  });
});

// ---------------------------------------------------------------- property: member log → item updates → item states

type MemberLogItem = { record: InputRecord; decoded: Decoded<RecoInput> };
type ItemLogItem = { record: InputRecord; decoded: Decoded<ItemUpdateValue> };

const op = fc.record({
  member: fc.integer({ min: 0, max: 3 }),
  kind: fc.constantFrom('purchase', 'purchase', 'lesson_complete', 'content_view', 'no_item'),
  item: fc.integer({ min: 0, max: 6 }),
  category: fc.constantFrom(null, 'math', 'art'),
  gap: fc.integer({ min: 0, max: 30 * hourMs }),
});
type Op = typeof op extends fc.Arbitrary<infer T> ? T : never;

const behaviorPartitions = 2;
const itemPartitions = 3;

/** Behavior events of members m0..m3 (member i on partition i % 2), offsets counted per partition. */
function memberLog(ops: Op[]): MemberLogItem[] {
  const next = new Array<number>(behaviorPartitions).fill(0);
  let t = t0;
  return ops.map((o, i) => {
    t += o.gap;
    const userId = `m${o.member}`;
    const partition = o.member % behaviorPartitions;
    const type = o.kind === 'no_item' ? 'purchase' : o.kind;
    const event = behaviorEvent({
      eventId: `bhv:e${i}`,
      sourceEventId: `e${i}`,
      userId,
      type,
      occurredAt: t,
      amountFen: type === 'purchase' ? 1000 : null,
      itemId: o.kind === 'no_item' ? null : `i${o.item}`,
      category: o.category,
    });
    const record = inputRecord(next[partition]!++, event, userId, {
      partition,
      topic: 'test.behavior.events',
      timestamp: t,
    });
    return {
      record,
      decoded: { kind: 'event', memberId: userId, eventId: event.eventId, event: { source: 'behavior', event } },
    };
  });
}

const itemPartitionOf = (itemId: string) =>
  Array.from(itemId).reduce((h, c) => h + c.charCodeAt(0), 0) % itemPartitions;

/**
 * The reco.item-updates log as reco-items reads it: `updates` in order, plus, for each `dups[k]`
 * = [index, delay], a re-publication of updates[index] after it (as after an upstream crash),
 * `delay` updates later. Offsets are counted per reco.item-updates partition.
 */
function itemLog(updates: ItemUpdateValue[], dups: Array<[number, number]> = []): ItemLogItem[] {
  const placed: Array<{ at: number; u: ItemUpdateValue }> = updates.map((u, i) => ({ at: 2 * i, u }));
  for (const [index, delay] of dups)
    if (updates.length > 0)
      placed.push({ at: 2 * ((index % updates.length) + delay) + 1, u: updates[index % updates.length]! });
  placed.sort((a, b) => a.at - b.at);
  const next = new Array<number>(itemPartitions).fill(0);
  return placed.map(({ u }) => {
    const partition = itemPartitionOf(u.itemId);
    return {
      record: inputRecord(next[partition]!++, u, u.itemId, { partition, topic: 'test.reco.item-updates' }),
      decoded: { kind: 'event', memberId: u.itemId, eventId: u.eventId, event: u },
    };
  });
}

const fixedView: RecoView = { stats: { state: () => undefined, members: () => 0 }, popularity: emptyPopularity() };

function itemUpdatesOf(log: MemberLogItem[], r: Rules): ItemUpdateValue[] {
  const run = referenceRun(
    recoMembersLogic,
    log,
    r,
    { recentIds: 256, outboxEntries: 10_000, maxStateBytes: 1_048_576 },
    { view: () => fixedView },
  );
  expect(run.outputs.filter((o: OutputEvent) => o.topic === 'activity.dlq')).toEqual([]);
  return run.outputs.filter((o) => o.topic === 'reco.item-updates').map((o) => o.value as unknown as ItemUpdateValue);
}

/** The oracle: each member's items through observeItem, each new item's pairUpdates applied with applyDeltaInPlace. */
function directStates(log: MemberLogItem[], r: Rules): Map<string, ItemState> {
  const members = new Map<string, MemberRecoState>();
  const items = new Map<string, ItemState>();
  for (const { decoded } of log) {
    if (decoded.kind !== 'event' || decoded.event.source !== 'behavior') continue;
    const e = decoded.event.event;
    const item = recoItemOf(e);
    if (item === null) continue;
    const obs = observeItem(
      members.get(e.userId) ?? emptyMemberState(),
      item.itemId,
      item.category,
      modelParamsOf(r.reco).member,
    );
    members.set(e.userId, obs.state);
    if (!obs.isNew) continue;
    for (const d of pairUpdates(
      { eventId: e.eventId, itemId: item.itemId, category: item.category, at: e.occurredAt },
      obs.previous,
    )) {
      let s = items.get(d.itemId);
      if (!s) items.set(d.itemId, (s = emptyItemState()));
      applyDeltaInPlace(s, d, r.reco.coItemsPerItem);
    }
  }
  return items;
}

const statesJson = (states: Map<string, RecoItemState>) =>
  new Map([...states].map(([id, s]) => [id, withoutApplied(s)]));
const oracleJson = (states: Map<string, ItemState>) => new Map([...states].map(([id, s]) => [id, itemStateToJson(s)]));

describe('reco-members → reco-items: exactly once', () => {
  it('a re-published update (same value, later position) counts once, even without the kernel id check', () => {
    const log = memberLog([
      { member: 0, kind: 'purchase', item: 1, category: 'math', gap: 0 },
      { member: 0, kind: 'purchase', item: 2, category: 'art', gap: hourMs },
      { member: 1, kind: 'purchase', item: 2, category: null, gap: hourMs },
      { member: 1, kind: 'purchase', item: 1, category: null, gap: hourMs },
    ]);
    const r = withReco({ coItemsPerItem: 100_000 });
    const updates = itemUpdatesOf(log, r);
    expect(updates.map((u) => [u.eventId, u.sourcePartition, u.sourceOffset])).toEqual([
      ['co:6:bhv:e0:i1', 0, 0],
      ['co:6:bhv:e1:i2', 0, 1],
      ['co:6:bhv:e1:i1', 0, 1],
      ['co:6:bhv:e2:i2', 1, 0],
      ['co:6:bhv:e3:i1', 1, 1],
      ['co:6:bhv:e3:i2', 1, 1],
    ]);
    const noIds = { recentIds: 0, outboxEntries: 10, maxStateBytes: 1_048_576 };
    const clean = referenceRun(recoItemsLogic, itemLog(updates), r, noIds);
    const dup = referenceRun(
      recoItemsLogic,
      itemLog(updates, [
        [0, 0],
        [1, 4],
        [2, 1],
        [5, 0],
      ]),
      r,
      noIds,
    );
    expect(dup.states).toEqual(clean.states);
    expect(statesJson(clean.states)).toEqual(
      new Map<string, ItemStateJson>([
        ['i1', { n: 2, category: 'math', co: [['i2', 2]], evictions: 0 }],
        ['i2', { n: 2, category: 'art', co: [['i1', 2]], evictions: 0 }],
      ]),
    );
    expect(clean.states.get('i1')!.applied).toEqual({ '0': 1, '1': 1 });
    // Counting every record instead would have given i1 three members.
    const naive = new Map<string, ItemState>();
    for (const { decoded } of itemLog(updates, [[0, 0]])) {
      if (decoded.kind !== 'event') continue;
      const s = naive.get(decoded.event.itemId) ?? emptyItemState();
      naive.set(decoded.event.itemId, applyDeltaInPlace(s, deltaOf(decoded.event)));
    }
    expect(naive.get('i1')!.n).toBe(3);
  });

  it('property: item states with re-published updates equal those without, and those of applying pairUpdates directly', () => {
    const bounds = fc.constantFrom({ recentItems: 2, ownedItems: 3 }, { recentItems: 1000, ownedItems: 1000 });
    const dups = fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 8 })), { maxLength: 20 });
    let withDuplicates = 0;
    fc.assert(
      fc.property(
        fc.array(op, { maxLength: 40 }),
        bounds,
        dups,
        fc.constantFrom(0, 1, 256),
        (ops, b, dupSpec, recentIds) => {
          const r = withReco({ ...b, coItemsPerItem: 100_000 });
          const log = memberLog(ops);
          const updates = itemUpdatesOf(log, r);
          const limits = { recentIds, outboxEntries: 100, maxStateBytes: 1_048_576 };
          const clean = referenceRun(recoItemsLogic, itemLog(updates), r, limits);
          const dupLog = itemLog(updates, dupSpec);
          if (dupLog.length > updates.length) withDuplicates++;
          const dup = referenceRun(recoItemsLogic, dupLog, r, limits);

          expect(dup.outputs).toEqual([]);
          expect(dup.states).toEqual(clean.states);
          const oracle = oracleJson(directStates(log, r));
          expect(statesJson(dup.states)).toEqual(oracle);

          // With no bound on owned or recent items the counts are plain set counts.
          if (b.ownedItems === 1000) {
            const owners = new Map<string, Set<string>>();
            for (const { decoded } of log) {
              if (decoded.kind !== 'event' || decoded.event.source !== 'behavior') continue;
              const e = decoded.event.event;
              if (e.itemId !== null && (e.type === 'purchase' || e.type === 'lesson_complete')) {
                const set = owners.get(e.itemId) ?? new Set<string>();
                owners.set(e.itemId, set.add(e.userId));
              }
            }
            expect([...dup.states.keys()].sort()).toEqual([...owners.keys()].sort());
            for (const [i, s] of dup.states) {
              expect(s.n).toBe(owners.get(i)!.size);
              const co = new Map(s.co.map(([j, c]) => [j, c]));
              for (const [j, mj] of owners) {
                if (j === i) continue;
                const both = [...owners.get(i)!].filter((m) => mj.has(m)).length;
                expect(co.get(j) ?? 0).toBe(both);
              }
            }
          }
        },
      ),
      { numRuns: 300 },
    );
    expect(withDuplicates).toBeGreaterThan(100);
  });
});
