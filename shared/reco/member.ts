/**
 * A member's recommendation state: what they have, what they touched last, and when a
 * recommendation event last went out per trigger. Plain JSON (arrays and numbers), kept
 * in the member's own record; every update returns a new state.
 */
import type { ActivityEvent } from '../contracts/activity-event.js';

/** Why a recommendation event goes out (the worker decides when; see `shouldEmit`). */
export const recoTriggers = ['next_item', 'win_back', 'tier_upgrade'] as const;
export type RecoTrigger = (typeof recoTriggers)[number];

export interface MemberRecoState {
  /**
   * Items the member has, least recently touched first (a purchase or completion of an
   * item they already have moves it to the end). At most `bounds.owned`: beyond that the
   * least recently touched item is forgotten, and if the member gets it again it counts
   * as new (n and its co-counts go up a second time for this member).
   */
  items: string[];
  /** Categories of the member's items (and other category signals), least recent first, at most `bounds.categories`. */
  categories: string[];
  /** Event time of the last recommendation event sent, per trigger. */
  lastEmitted: Partial<Record<RecoTrigger, number>>;
}

export interface MemberBounds {
  /** O: items remembered as owned (excluded from recommendations, not counted twice). */
  owned: number;
  /** R: the most recent items a new item is paired with, and that drive scoring. R ≤ O. */
  recent: number;
  /** Categories remembered for the cold-start fallback. */
  categories: number;
}

export const defaultMemberBounds: Readonly<MemberBounds> = { owned: 1000, recent: 20, categories: 5 };

export function emptyMemberState(): MemberRecoState {
  return { items: [], categories: [], lastEmitted: {} };
}

/** The item events that feed the model: purchases and lesson completions naming an item. */
export function recoItemOf(
  e: Pick<ActivityEvent, 'type' | 'itemId' | 'category'>,
): { itemId: string; category: string | null } | null {
  if (e.type !== 'purchase' && e.type !== 'lesson_complete') return null;
  if (e.itemId === null || e.itemId === '') return null;
  return { itemId: e.itemId, category: e.category };
}

export interface Observation {
  state: MemberRecoState;
  /** The member did not have the item: the item statistics change (`pairUpdates(…, previous)`). */
  isNew: boolean;
  /** It is the member's first item ever: they join the member total (the N of the likelihood ratio). */
  firstItem: boolean;
  /** P: the member's R most recent items before this one, most recent last (empty unless `isNew`). */
  previous: string[];
}

/** The member gets (buys or completes) an item. */
export function observeItem(
  s: MemberRecoState,
  itemId: string,
  category: string | null,
  bounds: MemberBounds = defaultMemberBounds,
): Observation {
  checkBounds(bounds);
  const at = s.items.lastIndexOf(itemId);
  const isNew = at < 0;
  const previous = isNew ? s.items.slice(Math.max(0, s.items.length - bounds.recent)) : [];
  const items = isNew ? [...s.items, itemId] : [...s.items.slice(0, at), ...s.items.slice(at + 1), itemId];
  if (items.length > bounds.owned) items.splice(0, items.length - bounds.owned);
  const state: MemberRecoState = {
    ...s,
    items,
    categories: category === null ? s.categories : touch(s.categories, category, bounds.categories),
  };
  return { state, isNew, firstItem: isNew && s.items.length === 0, previous };
}

/** A category signal without an item of the member's own (e.g. a content view): for the cold start. */
export function observeCategory(
  s: MemberRecoState,
  category: string,
  bounds: MemberBounds = defaultMemberBounds,
): MemberRecoState {
  return { ...s, categories: touch(s.categories, category, bounds.categories) };
}

/** The R items that drive the member's recommendations, most recent last. */
export function recentItems(s: MemberRecoState, recent: number): string[] {
  return s.items.slice(Math.max(0, s.items.length - recent));
}

function touch(list: readonly string[], value: string, bound: number): string[] {
  const out = list.filter((v) => v !== value);
  out.push(value);
  if (out.length > bound) out.splice(0, out.length - bound);
  return out;
}

function checkBounds(b: MemberBounds): void {
  if (!(b.owned >= 1 && b.recent >= 1 && b.recent <= b.owned && b.categories >= 0)) {
    throw new RangeError(`member bounds need 1 ≤ recent ≤ owned and categories ≥ 0: ${JSON.stringify(b)}`);
  }
}

/**
 * Rate limit per trigger: at most one recommendation event per member per trigger per
 * `minIntervalMs` of event time (0: no limit). The first one always goes; an event time
 * earlier than the last emission (late data) does not reopen the window.
 */
export function shouldEmit(s: MemberRecoState, trigger: RecoTrigger, time: number, minIntervalMs: number): boolean {
  if (minIntervalMs <= 0) return true;
  const last = s.lastEmitted[trigger];
  return last === undefined || time - last >= minIntervalMs;
}

/** Records that an event for `trigger` went out at `time` (event time; never moves back). */
export function markEmitted(s: MemberRecoState, trigger: RecoTrigger, time: number): MemberRecoState {
  const last = s.lastEmitted[trigger];
  return { ...s, lastEmitted: { ...s.lastEmitted, [trigger]: last === undefined ? time : Math.max(last, time) } };
}
