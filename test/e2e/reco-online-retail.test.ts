import { workerDefinition } from '../../services/index.js';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { produceCommand } from '../../cli/commands/produce.js';
import { recommendCommand } from '../../cli/commands/recommend.js';
import type { RecommendationValue } from '../../services/recommendations/events.js';
import type { ItemUpdateValue, RecoInput } from '../../services/recommendations/inputs.js';
import {
  categoryProjection,
  popularityProjection,
  recoItemsLogic,
  recoItemsName,
  type RecoItemState,
} from '../../services/recommendations/item-logic.js';
import {
  membersProjection,
  recoMembersLogic,
  recoMembersName,
  type RecoMemberState,
} from '../../services/recommendations/member-logic.js';
import { rankFor, type RecoView } from '../../services/recommendations/model.js';
import type { BehaviorEventValue } from '../../shared/contracts/behavior-event.js';
import { referenceRun } from '../../shared/kernel/reference-run.js';
import { defaultLimits } from '../../shared/runtime/run-worker.js';
import type { Decoded } from '../../shared/kernel/types.js';
import { MemberStore } from '../../shared/redis/member-store.js';
import { compareIds, itemStateFromJson, type ItemState } from '../../shared/reco/cooccurrence.js';
import type { PopularityState, TopEntry } from '../../shared/reco/popularity.js';
import { TestStack, type ReadRecord } from '../support/harness.js';

const data = fileURLToPath(new URL('../../data/online-retail/online-retail.csv.gz', import.meta.url));
const tickPlaceholder: Decoded<never> = {
  kind: 'rejected',
  rejection: { reason: 'tick', message: 'tick' },
  eventId: null,
  memberId: null,
};
const emptyView: RecoView = {
  stats: { state: () => undefined, members: () => 0 },
  popularity: { members: 0, global: [], categories: new Map() },
};

/**
 * December 2010 of Online Retail through behavior-events, reco-members and reco-items on
 * the real stack, with both recommendation workers SIGKILLed at their worst moments
 * (after a state write before publishing, after publishing before committing): every
 * item update is produced once by id, applied once, and the counts in Redis equal the
 * pure reference; member states and recommendation event ids equal the reference run's.
 */
describe('e2e: Online Retail through the recommendation workers', () => {
  let s: TestStack;
  const stats: Record<string, unknown> = {};
  beforeAll(async () => {
    s = await TestStack.create('reco', { partitions: 3 });
  });
  afterAll(async () => {
    process.stderr.write(`[reco-online-retail] ${JSON.stringify(stats)}\n`);
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when beforeAll failed
    await s?.close();
  });
  const ctx = () => ({ env: s.env, rules: s.rules, log: s.log });

  it('counts, states and events survive SIGKILLs and equal the pure reference', async () => {
    const produced = await produceCommand(ctx(), { file: data, format: 'online-retail', toDate: '2010-12-31' });
    expect(produced.sent).toBeGreaterThan(20_000);
    const behavior = s.spawnWorker('behavior-events');
    await s.waitForLag0('behavior-events', 'activity.events', 300_000);
    behavior.kill('SIGTERM');

    // Each worker killed twice mid-stream (after a state write, after a publish), the two running side by side.
    const small = { KAFKA_MAX_BYTES_PER_PARTITION: '16384' };
    const runs: { worker: string; failpoint: string; killed: boolean }[] = [];
    const plan: [string, string][] = [
      ['kill-after-state-write:3', 'kill-after-publish:5'],
      ['kill-after-publish:4', 'kill-after-state-write:7'],
    ];
    const runUntilKilledOrCaughtUp = async (
      worker: string,
      failpoint: string,
      topic: 'behavior.events' | 'reco.item-updates',
      after: Promise<unknown>,
    ) => {
      const child = s.spawnWorker(worker, [], { ...small, MEMBERFLOW_FAILPOINT: failpoint });
      const exited = new Promise<string | null>((r) => child.once('exit', (_c, signal) => r(signal)));
      const caughtUp = after.then(() => s.waitForLag0(worker, topic, 600_000)).then(() => 'caught-up' as const);
      const first = await Promise.race([exited, caughtUp]);
      if (first === 'caught-up') child.kill('SIGTERM');
      runs.push({ worker, failpoint, killed: (await exited) === 'SIGKILL' });
    };
    for (const [memberFp, itemFp] of plan) {
      const members = runUntilKilledOrCaughtUp(recoMembersName, memberFp, 'behavior.events', Promise.resolve());
      // reco-items reads what reco-members writes: it has caught up only once this round's reco-members has stopped
      // (an empty or momentarily drained input is no end).
      await Promise.all([members, runUntilKilledOrCaughtUp(recoItemsName, itemFp, 'reco.item-updates', members)]);
    }
    stats.runs = runs;
    expect(runs.filter((r) => r.worker === recoMembersName && r.killed).length, JSON.stringify(runs)).toBe(2);
    expect(
      runs.filter((r) => r.worker === recoItemsName && r.killed).length,
      JSON.stringify(runs),
    ).toBeGreaterThanOrEqual(1);
    const members = s.spawnWorker(recoMembersName, [], small);
    await s.waitForLag0(recoMembersName, 'behavior.events', 600_000);
    const items = s.spawnWorker(recoItemsName, [], small);
    await s.waitForLag0(recoItemsName, 'reco.item-updates', 600_000);
    for (const c of [members, items]) {
      c.kill('SIGTERM');
      await new Promise((r) => c.once('exit', r));
    }

    // 1. reco-members = the reference run over the same log: member states, item updates and recommendation ids.
    const input = await s.readAll('behavior.events');
    const log = input.map((record) => ({
      record,
      decoded:
        record.tick !== undefined
          ? (tickPlaceholder as Decoded<RecoInput>)
          : ({
              kind: 'event',
              memberId: (record.decoded as BehaviorEventValue).userId,
              eventId: (record.decoded as BehaviorEventValue).eventId,
              event: { source: 'behavior', event: record.decoded as BehaviorEventValue },
            } as const),
    }));
    // Whether an event goes out never depends on the model, so any view gives the reference ids and states.
    const reference = referenceRun(recoMembersLogic, log, s.rules, defaultLimits(s.rules), { view: () => emptyView });
    const memberStore = new MemberStore<RecoMemberState>(s.clients.redis, s.ns, workerDefinition(recoMembersName));
    const memberStates = await memberStore.load([...reference.states.keys()]);
    for (const [m, st] of reference.states) expect(memberStates.get(m)?.record.state, m).toEqual(st);

    const updates = await s.readAll('reco.item-updates');
    const firstUpdate = firstById(updates);
    const expectedUpdates = reference.outputs.filter((o) => o.topic === 'reco.item-updates');
    expect(firstUpdate.size).toBe(expectedUpdates.length);
    for (const o of expectedUpdates) expect(firstUpdate.get(o.id)?.decoded, o.id).toEqual(o.value);

    const recos = await s.readAll('member.recommendations');
    const firstReco = firstById(recos);
    const expectedRecos = reference.outputs.filter((o) => o.topic === 'member.recommendations');
    expect([...firstReco.keys()].sort()).toEqual(expectedRecos.map((o) => o.id).sort());
    // A re-published recommendation is the stored one, never a recomputed one.
    for (const r of recos) expect(r.decoded, r.id!).toEqual(firstReco.get(r.id!)!.decoded);
    Object.assign(stats, {
      behaviorEvents: input.length,
      itemUpdates: { published: updates.length, distinct: firstUpdate.size },
      recommendations: {
        published: recos.length,
        distinct: firstReco.size,
        withItems: [...firstReco.values()].filter((r) => (r.decoded as { items: unknown[] }).items.length > 0).length,
      },
    });

    // 2. Item counts: n exact for every item; co-counts exact for every item whose list never overflowed;
    //    every item equal to reco-items' own logic over the topic as it is (duplicates included), once each.
    const exact = new Map<string, ItemState>();
    for (const o of expectedUpdates) {
      const u = o.value as unknown as ItemUpdateValue;
      const st: ItemState = exact.get(u.itemId) ?? { n: 0, category: null, co: new Map(), evictions: 0 };
      if (u.addsMember) {
        st.n += 1;
        st.category ??= u.category;
      }
      for (const j of u.coItems) st.co.set(j, { count: (st.co.get(j)?.count ?? 0) + 1, error: 0 });
      exact.set(u.itemId, st);
    }
    const itemLog = updates.map((record) => ({
      record,
      decoded: {
        kind: 'event',
        memberId: (record.decoded as ItemUpdateValue).itemId,
        eventId: record.id!,
        event: record.decoded as ItemUpdateValue,
      } as const,
    }));
    const itemReference = referenceRun(recoItemsLogic, itemLog, s.rules, defaultLimits(s.rules));
    const itemStore = new MemberStore<RecoItemState>(s.clients.redis, s.ns, workerDefinition(recoItemsName));
    const itemStates = await itemStore.load([...exact.keys()]);
    let itemsExact = 0;
    let itemsEvicting = 0;
    for (const [id, want] of exact) {
      const got = itemStates.get(id)?.record.state;
      if (!got) throw new Error(`no reco-items state for ${id}`);
      expect(got, id).toEqual(itemReference.states.get(id));
      expect(got.n, id).toBe(want.n);
      if (got.evictions === 0) {
        itemsExact++;
        expect(new Map(got.co.map(([j, c]) => [j, c])), id).toEqual(
          new Map([...want.co].map(([j, e]) => [j, e.count])),
        );
      } else itemsEvicting++;
    }
    expect(itemsExact).toBeGreaterThan(0);
    Object.assign(stats, { items: exact.size, itemsExact, itemsEvicting });

    // 3. Projections written with the states: popularity, per category, members with items.
    const popularity = await allRows(itemStore, popularityProjection);
    const byN = [...exact.entries()].sort(([a, x], [b, y]) => y.n - x.n || compareIds(a, b));
    expect(popularity).toEqual(byN.map(([id, st]): TopEntry => [id, st.n]));
    const someCategory = byN[0]![1].category!;
    const inCategory = await allRows(itemStore, categoryProjection(someCategory));
    expect(inCategory).toEqual(
      byN.filter(([, st]) => st.category === someCategory).map(([id, st]): TopEntry => [id, st.n]),
    );
    const withItems = [...reference.states.values()].filter((st) => st.items.length > 0).length;
    expect(await memberStore.projectionSize(membersProjection)).toBe(withItems);

    // 4. The read path (`memberflow recommend`) = the pure ranking over the same statistics.
    const states = new Map([...exact.keys()].map((id) => [id, itemStateFromJson(itemStates.get(id)!.record.state!)]));
    const popularityState: PopularityState = {
      members: withItems,
      global: byN.slice(0, s.rules.reco.popularity.global).map(([id, st]): TopEntry => [id, st.n]),
      categories: new Map(),
    };
    for (const [id, st] of byN) {
      if (st.category === null) continue;
      const list = popularityState.categories.get(st.category) ?? [];
      if (list.length < s.rules.reco.popularity.category) list.push([id, st.n]);
      popularityState.categories.set(st.category, list);
    }
    const pureView: RecoView = {
      stats: { state: (id) => states.get(id), members: (id) => states.get(id)?.n ?? 0 },
      popularity: popularityState,
    };
    const sample = [...reference.states.keys()].sort().filter((_, i) => i % 97 === 0);
    for (const m of sample) {
      const report = await recommendCommand(ctx(), m);
      expect(report.items, m).toEqual(rankFor(reference.states.get(m)!, pureView, s.rules.reco));
      const owned = new Set(reference.states.get(m)!.items);
      expect(
        report.items.some((r) => owned.has(r.itemId)),
        m,
      ).toBe(false);
      expect(report.items.length).toBe(s.rules.reco.top);
    }
    const cold = await recommendCommand(ctx(), 'nobody-yet');
    expect(cold.known).toBe(false);
    expect(cold.items.map((r) => r.itemId)).toEqual(byN.slice(0, s.rules.reco.top).map(([id]) => id));
    stats.readPathChecked = sample.length + 1;
  }, 1_200_000);

  it('a member turning high risk gets win_back, an upgrade gets what the tier unlocks, a poison record goes to the DLQ', async () => {
    const memberStore = new MemberStore<RecoMemberState>(s.clients.redis, s.ns, workerDefinition(recoMembersName));
    const [m1, m2] = ['12347', '12748'];
    const churn = (eventId: string, userId: string, previousBand: string | null, band: string, occurredAt: number) => ({
      eventId,
      sourceEventId: `src-${eventId}`,
      userId,
      reason: 'band_changed',
      previousBand,
      band,
      pAlive: 0.1,
      expectedPurchases: 0.2,
      horizonDays: 90,
      expectedAverageSpendFen: null,
      lifetimeValueFen: null,
      frequency: 1,
      recencyDays: 10,
      ageDays: 100,
      lastActivityAt: null,
      lifecycleStage: 'active',
      plan: null,
      periodEnd: null,
      modelVersion: 'm',
      rulesVersion: s.rules.version,
      occurredAt,
    });
    const t0 = Date.parse('2011-03-01T00:00:00Z');
    const codec = s.clients.codec;
    await s.produce('member.churn-risk', [
      { key: m1, value: await codec.encode('member.churn-risk', churn('c1', m1, 'medium', 'high', t0)) },
      { key: m1, value: Buffer.from('not avro') },
      { key: m1, value: await codec.encode('member.churn-risk', churn('c2', m1, 'high', 'high', t0 + 1)) },
      { key: m2, value: await codec.encode('member.churn-risk', churn('c3', m2, 'low', 'medium', t0)) },
    ]);
    const upgrade = {
      eventId: 'tier-up-1',
      userId: m2,
      kind: 'upgrade',
      previousTier: 'bronze',
      newTier: 'silver',
      newTierLabel: '',
      reason: 'points_earned',
      qualifyingPoints: 150,
      pointsToNextTier: 351,
      pointsToKeepTier: null,
      graceEndsAt: null,
      floorTier: null,
      benefits: ['member_discounts', 'free_trials', 'member_only_courses'],
      rulesVersion: s.rules.version,
      decidedAt: t0,
      sourceEventId: 'pts-1',
    };
    await s.produce('member.tier-changes', [{ key: m2, value: await codec.encode('member.tier-changes', upgrade) }]);
    const worker = s.spawnWorker(recoMembersName);
    await s.waitForLag0(recoMembersName, 'member.churn-risk', 300_000);
    await s.waitForLag0(recoMembersName, 'member.tier-changes', 300_000);
    worker.kill('SIGTERM');
    await new Promise((r) => worker.once('exit', r));

    const recos = [...firstById(await s.readAll('member.recommendations')).values()].map(
      (r) => r.decoded as RecommendationValue,
    );
    const winBack = recos.filter((r) => r.trigger === 'win_back');
    expect(winBack.map((r) => r.eventId)).toEqual(['reco:win_back:c1']);
    const owned1 = new Set((await memberStore.state(m1))!.items);
    expect(winBack[0]!.items.length).toBe(s.rules.reco.top);
    expect(winBack[0]!.items.some((i) => owned1.has(i.itemId))).toBe(false);

    const up = recos.filter((r) => r.trigger === 'tier_upgrade');
    expect(up.map((r) => r.eventId)).toEqual(['reco:tier_upgrade:tier-up-1']);
    expect(up[0]!.unlocks).toEqual(['member_discounts', 'free_trials', 'member_only_courses']);
    const category = s.rules.reco.benefitCategories.member_only_courses![0]!;
    const owned2 = new Set((await memberStore.state(m2))!.items);
    const itemStore = new MemberStore<RecoItemState>(s.clients.redis, s.ns, workerDefinition(recoItemsName));
    const inCategory = (await allRows(itemStore, categoryProjection(category))).filter(([id]) => !owned2.has(id));
    expect(inCategory.length).toBeGreaterThan(0);
    const unlocked = up[0]!.items.filter((i) => i.source === 'unlocked');
    expect(unlocked.map((i) => [i.itemId, i.score])).toEqual(inCategory.slice(0, s.rules.reco.top));

    const dead = (await s.readAll('activity.dlq')).map((r) => r.decoded as { reason: string; worker?: string });
    expect(dead.filter((d) => d.reason === 'schema_mismatch').length).toBe(1);
  }, 600_000);
});

function firstById(records: readonly ReadRecord[]): Map<string, ReadRecord> {
  const out = new Map<string, ReadRecord>();
  for (const r of records) if (!out.has(r.id!)) out.set(r.id!, r);
  return out;
}

/** Every row of a projection (its shards merged), scores −n as top-list counts. */
async function allRows<S>(store: MemberStore<S>, name: string): Promise<TopEntry[]> {
  return (await store.projectionTop(name, Number.MAX_SAFE_INTEGER)).map(([id, score]): TopEntry => [id, -score]);
}
