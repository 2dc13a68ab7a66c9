/**
 * Item statistics for item-to-item collaborative filtering, as per-item state that a
 * consumer keyed by item can own: n_i (members who have item i) and the co-occurrence
 * counts c(i, j) with other items j.
 *
 * A member's new item x against their previous items P (see member.ts) gives
 * c(x, p) += 1 and c(p, x) += 1 for each p in P, and n_x += 1. The update is expressed
 * as one delta per item it touches (`pairUpdates`), so that each delta can be routed to
 * its item's owner and applied there alone (`applyDelta`). Each delta has a
 * deterministic id (source event id + item): a replayed delta carries the same id, so
 * the consumer can recognise and drop it.
 *
 * Bound: at most `capacity` (K) co-items per item, maintained with Space-Saving
 * (Metwally, Agrawal & El Abbadi 2005): when a new co-item arrives at a full list, the
 * entry with the smallest count is evicted (ties: the largest item id, so the outcome is
 * deterministic) and the newcomer takes over its count + 1, remembering that count as
 * its error. So for every stored entry count − error ≤ true c(i, j) ≤ count, the counts
 * sum to the number of increments received, and any co-item whose true count exceeds
 * (increments / K) is kept. Scoring uses the lower bound count − error, which equals the
 * exact count until the list first fills. What the bound costs in hit rate is measured
 * in docs/reco-evaluation.md.
 *
 * Order: with K unbounded the counts are sums, so any delivery order gives the same
 * state. With a finite K, eviction makes the state depend on the order in which an
 * item's deltas arrive: a consumer must apply them in its partition's order, and a
 * reference must replay that same order.
 */

/** A stored co-item: count − error ≤ true c(i, j) ≤ count. */
export interface CoEntry {
  count: number;
  /** 0 unless the entry was admitted by an eviction: then the count it took over. */
  error: number;
}

/** The statistics one item's owner keeps. A Map here; `itemStateToJson` gives the stored form. */
export interface ItemState {
  /** n_i: members who have the item. Exact (a counter), whatever the bound. */
  n: number;
  /** From the first delta that added a member with a category: an item keeps its first category. */
  category: string | null;
  /** Co-item j → its count (an upper bound of c(i, j) once entries were evicted). */
  co: Map<string, CoEntry>;
  /** Entries evicted so far: 0 while the list never overflowed (then counts are exact). */
  evictions: number;
}

/** One item's share of a member's new item: apply it to that item's state only. */
export interface ItemDelta {
  /** Deterministic: `deltaId(sourceEventId, itemId)`. Unique per (source event, item). */
  id: string;
  /** The item whose state changes: the key to route by. */
  itemId: string;
  /** True on the new item's own delta: n_i += 1 and its category is recorded. */
  addsMember: boolean;
  category: string | null;
  /** Co-items j whose c(itemId, j) goes up by one (distinct, never itemId). */
  coItems: string[];
  /** Event time of the source event (epoch ms). */
  at: number;
}

/** The source of an update: the event that gave a member an item they did not have. */
export interface NewItem {
  eventId: string;
  itemId: string;
  category: string | null;
  at: number;
}

export const unbounded = Number.POSITIVE_INFINITY;

/**
 * `co:<length of the event id>:<event id>:<item id>`: the length prefix keeps the id
 * unambiguous whatever characters the two ids contain.
 */
export function deltaId(sourceEventId: string, itemId: string): string {
  return `co:${sourceEventId.length}:${sourceEventId}:${itemId}`;
}

export function emptyItemState(): ItemState {
  return { n: 0, category: null, co: new Map(), evictions: 0 };
}

/**
 * The deltas for a member's new item x, given their previous items P: first x's own
 * (n_x += 1, c(x, p) += 1 for all p), then one per p (c(p, x) += 1), in P's order.
 * Repeated or self entries in P are ignored, so each pair counts once per member.
 */
export function pairUpdates(x: NewItem, previous: readonly string[]): ItemDelta[] {
  const ps = [...new Set(previous)].filter((p) => p !== x.itemId);
  const out: ItemDelta[] = [
    {
      id: deltaId(x.eventId, x.itemId),
      itemId: x.itemId,
      addsMember: true,
      category: x.category,
      coItems: ps,
      at: x.at,
    },
  ];
  for (const p of ps)
    out.push({
      id: deltaId(x.eventId, p),
      itemId: p,
      addsMember: false,
      category: null,
      coItems: [x.itemId],
      at: x.at,
    });
  return out;
}

export function cloneItemState(s: ItemState): ItemState {
  const co = new Map<string, CoEntry>();
  for (const [j, e] of s.co) co.set(j, { count: e.count, error: e.error });
  return { n: s.n, category: s.category, co, evictions: s.evictions };
}

/** The delta applied to a copy: `state` is left as it was. */
export function applyDelta(state: ItemState, delta: ItemDelta, capacity: number = unbounded): ItemState {
  return applyDeltaInPlace(cloneItemState(state), delta, capacity);
}

/**
 * The same transition as `applyDelta`, updating `state` itself (for replays over
 * millions of deltas, where copying each state would dominate). Returns `state`.
 */
export function applyDeltaInPlace(state: ItemState, delta: ItemDelta, capacity: number = unbounded): ItemState {
  if (!(capacity >= 1)) throw new RangeError(`co-item capacity must be at least 1, got ${capacity}`);
  if (delta.addsMember) {
    state.n += 1;
    if (delta.category !== null && state.category === null) state.category = delta.category;
  }
  for (const j of delta.coItems) {
    if (j === delta.itemId) continue;
    const entry = state.co.get(j);
    if (entry !== undefined) entry.count += 1;
    else if (state.co.size < capacity) {
      state.co.set(j, { count: 1, error: 0 });
      // Only a raised capacity lets a count-1 entry join a list that was full: rescan then.
      if (state.evictions > 0) queues.delete(state);
    } else admitByEviction(state, j, capacity);
  }
  return state;
}

/** c(i, j) as scoring uses it: the guaranteed lower bound (exact while nothing was evicted). */
export function coCount(state: ItemState, j: string): number {
  const e = state.co.get(j);
  return e === undefined ? 0 : e.count - e.error;
}

/**
 * Entries at the current minimum, found by the last scan: a cache that only saves scans.
 * After a scan every entry at the minimum is queued; newcomers enter above it and counts
 * only grow, so the queue entries still at `floor` are exactly the entries at the minimum.
 */
interface EvictionQueue {
  floor: number;
  /** Sorted by id ascending: the next victim (largest id) is at the end. */
  ids: string[];
}

const queues = new WeakMap<ItemState, EvictionQueue>();

function admitByEviction(state: ItemState, j: string, capacity: number): void {
  let freed: CoEntry | undefined;
  while (state.co.size >= capacity) {
    const victim = nextVictim(state);
    freed = state.co.get(victim)!;
    state.co.delete(victim);
    state.evictions += 1;
  }
  // The last victim has the largest evicted count: the newcomer takes it over (and its object).
  const floor = freed!.count;
  freed!.count = floor + 1;
  freed!.error = floor;
  state.co.set(j, freed!);
}

function nextVictim(state: ItemState): string {
  let q = queues.get(state);
  while (q && q.ids.length > 0) {
    const id = q.ids.pop()!;
    if (state.co.get(id)?.count === q.floor) return id;
  }
  let floor = Number.POSITIVE_INFINITY;
  let ids: string[] = [];
  state.co.forEach((e, id) => {
    if (e.count < floor) {
      floor = e.count;
      ids = [id];
    } else if (e.count === floor) ids.push(id);
  });
  ids.sort(); // code-unit order, as compareIds
  q = { floor, ids };
  queues.set(state, q);
  return q.ids.pop()!;
}

/** Code-unit order (not locale order): the same everywhere. */
export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Stored form: co-items sorted by count desc then id, so equal states give equal JSON. */
export interface ItemStateJson {
  n: number;
  category: string | null;
  /** [co-item, count] or [co-item, count, error] when the entry has an error bound. */
  co: Array<[string, number] | [string, number, number]>;
  evictions: number;
}

export function itemStateToJson(s: ItemState): ItemStateJson {
  const co = [...s.co.entries()]
    .sort(([a, ea], [b, eb]) => eb.count - ea.count || compareIds(a, b))
    .map(([j, e]): [string, number] | [string, number, number] => (e.error > 0 ? [j, e.count, e.error] : [j, e.count]));
  return { n: s.n, category: s.category, co, evictions: s.evictions };
}

export function itemStateFromJson(j: ItemStateJson): ItemState {
  const s = emptyItemState();
  s.n = j.n;
  s.category = j.category;
  s.evictions = j.evictions;
  for (const [id, count, error] of j.co) s.co.set(id, { count, error: error ?? 0 });
  return s;
}
