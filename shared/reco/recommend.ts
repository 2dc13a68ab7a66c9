/**
 * A member's top N: item-to-item CF from their recent items, then popularity to fill.
 *
 * score(j) = Σ over the member's R most recent items i of sim(i, j), where sim uses
 * c(i, j) from i's own co-item list (lower bound, see cooccurrence.ts; 0 when j is not in
 * i's list), n_i, n_j and the member total. Only items in some recent item's list can
 * score; owned items never appear; items scoring 0 are not CF candidates. Ranked by score
 * descending, ties by item id (code-unit order), so equal inputs give equal lists.
 *
 * When CF gives fewer than N (no recent items, no co-items, or everything owned), the
 * list is filled from category popularity (the member's remembered categories, their
 * lists merged by member count), then global popularity, both excluding owned and already
 * listed items, scored by member count. Scores are only comparable within a source: each
 * item says where it came from, and the list is ordered CF first, then categories, then global.
 */
import { compareIds, type ItemState } from './cooccurrence.js';
import { recentItems, type MemberRecoState } from './member.js';
import type { PopularityState, TopEntry } from './popularity.js';
import { similarities, type SimilarityName } from './similarity.js';

export type RecoSource = 'cf' | 'category_popularity' | 'popularity';

export interface ScoredItem {
  itemId: string;
  score: number;
  source: RecoSource;
}

export interface Recommendations {
  /** Source of the first item (where the top of the list came from); null if the list is empty. */
  source: RecoSource | null;
  items: ScoredItem[];
}

/** What scoring reads of the item statistics (plain functions: `candidateItems` takes `state` on its own). */
export interface ItemStats {
  /** Item i's state: read for the member's recent items. */
  state: (itemId: string) => ItemState | undefined;
  /** n_j for a candidate j (0 if unknown). A worker can serve it from a counter without loading j's co-items. */
  members: (itemId: string) => number;
}

export interface ScoringOptions {
  similarity: SimilarityName;
  /** R: how many of the member's most recent items drive the scores. */
  recent: number;
}

export function itemStatsOf(states: ReadonlyMap<string, ItemState>): ItemStats {
  return { state: (id) => states.get(id), members: (id) => states.get(id)?.n ?? 0 };
}

/** The items CF may score for this member (for a worker that fetches n_j before calling `recommend`). */
export function candidateItems(member: MemberRecoState, state: ItemStats['state'], recent: number): string[] {
  const owned = new Set(member.items);
  const out = new Set<string>();
  for (const i of recentItems(member, recent)) {
    const s = state(i);
    if (s) for (const [j, e] of s.co) if (e.count > e.error && !owned.has(j)) out.add(j);
  }
  return [...out].sort(compareIds);
}

/** CF scores of every candidate, unsorted. */
export function cfScores(
  member: MemberRecoState,
  items: ItemStats,
  totalMembers: number,
  o: ScoringOptions,
): Map<string, number> {
  const owned = new Set(member.items);
  const sim = similarities[o.similarity];
  const scores = new Map<string, number>();
  for (const i of recentItems(member, o.recent)) {
    const s = items.state(i);
    if (!s || s.n <= 0) continue;
    const ni = s.n;
    s.co.forEach((e, j) => {
      const c = e.count - e.error;
      if (c <= 0 || owned.has(j)) return;
      const v = sim(c, ni, items.members(j), totalMembers);
      if (v > 0) scores.set(j, (scores.get(j) ?? 0) + v);
    });
  }
  return scores;
}

export function recommend(
  member: MemberRecoState,
  items: ItemStats,
  popularity: PopularityState,
  n: number,
  o: ScoringOptions,
): Recommendations {
  const ranked = [...cfScores(member, items, popularity.members, o).entries()].sort(
    ([a, sa], [b, sb]) => sb - sa || compareIds(a, b),
  );
  const out: ScoredItem[] = ranked.slice(0, n).map(([itemId, score]) => ({ itemId, score, source: 'cf' }));
  if (out.length < n) {
    const taken = new Set([...member.items, ...out.map((r) => r.itemId)]);
    fill(out, taken, categoryCandidates(member, popularity), n, 'category_popularity');
    fill(out, taken, popularity.global, n, 'popularity');
  }
  return { source: out[0]?.source ?? null, items: out };
}

/** The popularity baseline: the global top list without the member's items. */
export function popularityBaseline(member: MemberRecoState, popularity: PopularityState, n: number): Recommendations {
  const out: ScoredItem[] = [];
  fill(out, new Set(member.items), popularity.global, n, 'popularity');
  return { source: out[0]?.source ?? null, items: out };
}

/** The member's category lists merged: by member count, then id. */
function categoryCandidates(member: MemberRecoState, popularity: PopularityState): TopEntry[] {
  const best = new Map<string, number>();
  for (const c of member.categories) {
    for (const [id, n] of popularity.categories.get(c) ?? []) if (n > (best.get(id) ?? 0)) best.set(id, n);
  }
  return [...best.entries()].sort(([a, na], [b, nb]) => nb - na || compareIds(a, b));
}

function fill(out: ScoredItem[], taken: Set<string>, list: readonly TopEntry[], n: number, source: RecoSource): void {
  for (const [itemId, members] of list) {
    if (out.length >= n) return;
    if (taken.has(itemId)) continue;
    taken.add(itemId);
    out.push({ itemId, score: members, source });
  }
}
