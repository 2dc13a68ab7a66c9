/**
 * The recommendation model as the rules configure it, and how one member's list is made
 * for each trigger. Pure: the item statistics come in as a view (from Redis in the
 * worker, from the reference model in tests and offline runs).
 */
import type { RecoRules, Rules } from '../../shared/config/rules.js';
import { compareIds } from '../../shared/reco/cooccurrence.js';
import { modelVersion, type ModelParams } from '../../shared/reco/evaluate.js';
import type { MemberRecoState, RecoTrigger } from '../../shared/reco/member.js';
import type { PopularityState } from '../../shared/reco/popularity.js';
import { recommend, type ItemStats, type RecoSource } from '../../shared/reco/recommend.js';

/** What a recommendation reads of the model: item statistics and popularity. */
export interface RecoView {
  stats: ItemStats;
  popularity: PopularityState;
}

export function modelParamsOf(reco: RecoRules): ModelParams {
  return {
    coItems: reco.coItemsPerItem,
    member: { owned: reco.ownedItems, recent: reco.recentItems, categories: reco.categoriesPerMember },
    popularity: reco.popularity,
    similarity: reco.similarity,
  };
}

export function recoModelVersion(reco: RecoRules): string {
  return modelVersion(modelParamsOf(reco));
}

export const hourMs = 3_600_000;

export function minIntervalMs(reco: RecoRules, trigger: RecoTrigger): number {
  return reco.minIntervalHours[trigger] * hourMs;
}

export interface RankedItem {
  itemId: string;
  score: number;
  source: RecoSource | 'unlocked';
}

/** Benefits the new tier has that the previous one had not (rules ladder; the event's list if the tier is unknown). */
export function unlockedBenefits(
  rules: Rules,
  previousTier: string | null,
  newTier: string,
  eventBenefits: readonly string[],
): string[] {
  const ladder = rules.tiers.ladder;
  const now = ladder.find((t) => t.name === newTier)?.benefits ?? eventBenefits;
  const before = new Set(previousTier === null ? [] : (ladder.find((t) => t.name === previousTier)?.benefits ?? []));
  return [...new Set(now.filter((b) => !before.has(b)))];
}

/**
 * A member's top N. For a tier upgrade, the most popular items of the categories the new
 * benefits unlock come first (source `unlocked`), then the member's usual list.
 */
export function rankFor(
  member: MemberRecoState,
  view: RecoView,
  reco: RecoRules,
  unlockedCategories: readonly string[] = [],
): RankedItem[] {
  const n = reco.top;
  const general = recommend(member, view.stats, view.popularity, n, {
    similarity: reco.similarity,
    recent: reco.recentItems,
  }).items;
  if (unlockedCategories.length === 0) return general;
  const owned = new Set(member.items);
  const best = new Map<string, number>();
  for (const c of unlockedCategories) {
    for (const [id, members] of view.popularity.categories.get(c) ?? [])
      if (!owned.has(id) && members > (best.get(id) ?? 0)) best.set(id, members);
  }
  const unlocked: RankedItem[] = [...best.entries()]
    .sort(([a, na], [b, nb]) => nb - na || compareIds(a, b))
    .slice(0, n)
    .map(([itemId, score]) => ({ itemId, score, source: 'unlocked' }));
  const taken = new Set(unlocked.map((r) => r.itemId));
  return [...unlocked, ...general.filter((r) => !taken.has(r.itemId))].slice(0, n);
}

/** Categories a tier upgrade's view needs (rules reco.benefitCategories). */
export function categoriesOfBenefits(reco: RecoRules, benefits: readonly string[]): string[] {
  return [...new Set(benefits.flatMap((b) => reco.benefitCategories[b] ?? []))];
}
