/**
 * Popularity for the cold start and the baseline: members per item, globally and per
 * category, as bounded top lists.
 *
 * Each update carries an item's current member count n (which its owner knows exactly,
 * see cooccurrence.ts). Counts only grow, so a top-T list fed every item's latest count
 * is the exact top T: an item pushed out was outranked by T items whose counts can only
 * have grown since, and it re-enters with its own next update. An update keeps the larger
 * of the stored and the new count, so late or repeated updates change nothing: the final
 * lists do not depend on the order updates arrive in.
 */
import { compareIds } from './cooccurrence.js';

/** [item id, members], sorted by members desc then id. */
export type TopEntry = [string, number];

export interface PopularityState {
  /** Members with at least one item (the N of the likelihood ratio). */
  members: number;
  global: TopEntry[];
  /** Category → its top list. */
  categories: Map<string, TopEntry[]>;
}

export interface PopularityBounds {
  /** T: entries in the global list. The baseline and the fallback recommend from it, after removing owned items. */
  global: number;
  /** Entries per category list. */
  category: number;
}

export const defaultPopularityBounds: Readonly<PopularityBounds> = { global: 500, category: 100 };

export function emptyPopularity(): PopularityState {
  return { members: 0, global: [], categories: new Map() };
}

/** One more member with an item (call once per member: `Observation.firstItem`). In place. */
export function countMember(p: PopularityState): PopularityState {
  p.members += 1;
  return p;
}

/** Item `itemId` (in `category`) now has `n` members. Updates `p` in place and returns it. */
export function bumpItem(
  p: PopularityState,
  itemId: string,
  category: string | null,
  n: number,
  bounds: PopularityBounds = defaultPopularityBounds,
): PopularityState {
  upsert(p.global, itemId, n, bounds.global);
  if (category !== null) {
    let list = p.categories.get(category);
    if (!list) p.categories.set(category, (list = []));
    upsert(list, itemId, n, bounds.category);
  }
  return p;
}

/** (a before b) in list order: more members first, then smaller id. */
function ranksBefore(na: number, a: string, nb: number, b: string): boolean {
  return na > nb || (na === nb && a < b);
}

function upsert(list: TopEntry[], id: string, n: number, size: number): void {
  const last = list[list.length - 1];
  // Cheap exit for the long tail: outranked by a full list's last entry. If the item is
  // listed, (n, id) ranks at least where its old entry did, so it is that last entry with n ≤ its count.
  if (list.length >= size && last !== undefined && !ranksBefore(n, id, last[1], last[0])) return;
  const at = list.findIndex((e) => e[0] === id);
  if (at >= 0) {
    if (list[at]![1] >= n) return;
    list.splice(at, 1);
  }
  // Binary search for the first entry that ranks after (n, id).
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const e = list[mid]!;
    if (ranksBefore(e[1], e[0], n, id)) lo = mid + 1;
    else hi = mid;
  }
  list.splice(lo, 0, [id, n]);
  if (list.length > size) list.length = size;
}

/** Members of an item as far as the lists know (0 if it is in none). */
export function listedMembers(list: readonly TopEntry[], itemId: string): number {
  return list.find((e) => e[0] === itemId)?.[1] ?? 0;
}

/** Stored form (category lists sorted by category). */
export interface PopularityJson {
  members: number;
  global: TopEntry[];
  categories: Array<[string, TopEntry[]]>;
}

export function popularityToJson(p: PopularityState): PopularityJson {
  return {
    members: p.members,
    global: p.global.map(([id, n]): TopEntry => [id, n]),
    categories: [...p.categories.entries()]
      .sort(([a], [b]) => compareIds(a, b))
      .map(([c, l]): [string, TopEntry[]] => [c, l.map(([id, n]): TopEntry => [id, n])]),
  };
}

export function popularityFromJson(j: PopularityJson): PopularityState {
  return {
    members: j.members,
    global: j.global.map(([id, n]): TopEntry => [id, n]),
    categories: new Map(j.categories.map(([c, l]) => [c, l.map(([id, n]): TopEntry => [id, n])])),
  };
}
