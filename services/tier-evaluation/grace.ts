import type { Rules } from '../../shared/config/rules.js';
import { dayMs } from '../../shared/util/time.js';
import type { Grace } from './state.js';

export const graceMs = (rules: Rules): number => rules.tiers.graceDays * dayMs;

/** A grace period starting at `at` (null when graceDays is 0: the downgrade is immediate). */
export function startGrace(rules: Rules, at: number, needed: number): Grace | null {
  const ms = graceMs(rules);
  return ms === 0 ? null : { endsAt: at + ms, announced: needed };
}

/** Whether the grace period is over at `at` (it ends at exactly endsAt). */
export const graceOver = (g: Grace | null, at: number): boolean => g !== null && g.endsAt <= at;

/**
 * Where a member goes when the grace period ends short: straight to the tier
 * the points (and floors) support, or one tier down.
 */
export function downgradeTarget(rules: Rules, current: number, supported: number): number {
  return rules.tiers.downgrade === 'stepwise' ? Math.max(supported, current - 1) : supported;
}

/**
 * A second (or later) drop during grace does not move or restart the grace
 * end; it is announced again only when more points are needed than last told.
 */
export const needsNewWarning = (g: Grace, needed: number): boolean => needed > g.announced;
