/**
 * The model view reco-members reads per batch, from what reco-items wrote: the states of
 * the items the batch's members have recently had (and of the batch's new items), the
 * member counts of every item those can recommend, popularity lists and the member total.
 * Two round trips per batch (the reads of one go out together). Popularity lists come from
 * sorted-set projections written atomically with each item's state, in shards merged on
 * read (MemberStore.projectionTop), ordered exactly as shared/reco/popularity.ts orders its
 * lists (most members first, ties by id), so the view equals the pure model's.
 */
import type { RedisClient } from '../../shared/redis/client.js';
import type { Rules } from '../../shared/config/rules.js';
import type { ViewLoader } from '../../shared/runtime/worker-definition.js';
import { MemberStore } from '../../shared/redis/member-store.js';
import { itemStateFromJson, type ItemState } from '../../shared/reco/cooccurrence.js';
import { recentItems, recoItemOf } from '../../shared/reco/member.js';
import type { PopularityState, TopEntry } from '../../shared/reco/popularity.js';
import type { RecoInput } from './inputs.js';
import { categoryProjection, popularityProjection, recoItemsLogic, type RecoItemState } from './item-logic.js';
import { membersProjection, recoMembersLogic, type RecoMemberState } from './member-logic.js';
import { categoriesOfBenefits, type RecoView } from './model.js';

export interface RecoModelReader {
  /** The view for these members (their states as loaded) and events. */
  load(states: Iterable<RecoMemberState | null>, events: readonly RecoInput[]): Promise<RecoView>;
}

export function recoModelReader(redis: RedisClient, namespace: string, rules: () => Rules): RecoModelReader {
  const items = new MemberStore<RecoItemState>(redis, namespace, recoItemsLogic);
  const members = new MemberStore<RecoMemberState>(redis, namespace, recoMembersLogic);
  return {
    async load(states, events) {
      const reco = rules().reco;
      const itemIds = new Set<string>();
      const categories = new Set<string>(Object.values(reco.benefitCategories).flat());
      for (const s of states) {
        if (s === null) continue;
        for (const i of recentItems(s, reco.recentItems)) itemIds.add(i);
        for (const c of s.categories) categories.add(c);
      }
      for (const e of events) {
        if (e.source === 'behavior') {
          const item = recoItemOf(e.event);
          if (item) itemIds.add(item.itemId);
          if (e.event.category) categories.add(e.event.category);
        } else if (e.source === 'tier') {
          for (const c of categoriesOfBenefits(reco, e.event.benefits)) categories.add(c);
        }
      }
      const cats = [...categories];
      const [loaded, global, perCategory, memberCount] = await Promise.all([
        items.load([...itemIds]),
        items.projectionTop(popularityProjection, reco.popularity.global),
        Promise.all(cats.map((c) => items.projectionTop(categoryProjection(c), reco.popularity.category))),
        members.projectionSize(membersProjection),
      ]);
      const popularity: PopularityState = { members: memberCount, global: topList(global), categories: new Map() };
      cats.forEach((c, i) => popularity.categories.set(c, topList(perCategory[i]!)));

      const stateOf = new Map<string, ItemState>();
      for (const [id, m] of loaded) if (m.record.state !== null) stateOf.set(id, itemStateFromJson(m.record.state));
      const count = new Map<string, number>();
      for (const [id, s] of stateOf) count.set(id, s.n);
      const candidates = new Set<string>();
      for (const s of stateOf.values())
        for (const [j, e] of s.co) if (e.count > e.error && !count.has(j)) candidates.add(j);
      const ids = [...candidates];
      for (let at = 0; at < ids.length; at += 10_000) {
        const scores = await items.projectionScores(popularityProjection, ids.slice(at, at + 10_000));
        for (const [j, score] of scores) count.set(j, score === null ? 0 : -score);
      }
      return { stats: { state: (id) => stateOf.get(id), members: (id) => count.get(id) ?? 0 }, popularity };
    },
  };
}

/** Projection rows (scores −n) as a top list. */
function topList(rows: ReadonlyArray<[string, number]>): TopEntry[] {
  return rows.map(([id, score]): TopEntry => [id, -score]);
}

export function recoViewLoader(deps: {
  redis: RedisClient;
  namespace: string;
  rules: Rules;
}): ViewLoader<RecoMemberState, RecoInput, RecoView> {
  const reader = recoModelReader(deps.redis, deps.namespace, () => deps.rules);
  return ({ states, events }) => reader.load(states.values(), events);
}
