import type { Rules } from '../../shared/config/rules.js';
import { tierIndex } from './ladder.js';
import { maxFloorsKept } from './state.js';

export type Floor = [string, number];

/**
 * A subscription to `plan` running until `periodEnd`: kept if it ends later
 * than what is known of that plan (the longest-running one counts) and after
 * `now` (a late event whose period is already over changes nothing). Every
 * plan is kept, floor or not, so a rules change that adds a floor applies to
 * running subscriptions; at most maxFloorsKept plans (the soonest-ending go).
 */
export function recordSubscription(floors: readonly Floor[], plan: string, periodEnd: number, now: number): Floor[] {
  if (periodEnd <= now) return [...floors];
  const known = floors.find(([p]) => p === plan);
  if (known && known[1] >= periodEnd) return [...floors];
  let out: Floor[] = [...floors.filter(([p]) => p !== plan), [plan, periodEnd]];
  if (out.length > maxFloorsKept)
    out = [...out].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, maxFloorsKept);
  return out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

/** A floor holds while now < periodEnd: it ends at exactly periodEnd. */
export const pruneFloors = (floors: readonly Floor[], now: number): Floor[] => floors.filter(([, end]) => end > now);

/** The highest ladder index the running floors guarantee at `now`, or -1 (no floor). */
export function floorIndex(floors: readonly Floor[], rules: Rules, now: number): number {
  let best = -1;
  for (const [plan, end] of floors) {
    const tier = rules.tiers.planFloors[plan];
    if (end > now && tier !== undefined) best = Math.max(best, tierIndex(rules, tier));
  }
  return best;
}

/** The next instant a kept subscription ends, or null. */
export function nextFloorEnd(floors: readonly Floor[]): number | null {
  return floors.length === 0 ? null : Math.min(...floors.map(([, end]) => end));
}
