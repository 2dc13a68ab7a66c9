/**
 * A member's tier state (its Redis value). Bounded: see README.md in this
 * folder (at most rules.tiers.maxWindowEntries window entries and
 * `maxFloorsKept` floors, plus a few scalars).
 */

/** A grace period: the member keeps `tier` until `endsAt` unless the points come back. */
export interface Grace {
  /** Epoch ms; the member moves down at this instant if still short. */
  endsAt: number;
  /** Points needed to keep the tier, as last announced in a tier_at_risk event. */
  announced: number;
}

export interface TierState {
  /** The latest instant applied (input or tick time); time-driven work up to it is done. null until the first decision. */
  clock: number | null;
  /** Current tier name; null until the first decision (`initial`). */
  tier: string | null;
  /** Window length (ms) the entries were last evaluated with, so that nextDue(state) needs no rules. */
  windowMs: number;
  /** Qualifying movements [instant, signed points], ascending by instant, one per millisecond, none 0, all still in the window. */
  window: [number, number][];
  /** Running subscriptions [plan, periodEnd], the longest-running per plan, ascending by plan, all ending after `clock`. */
  floors: [string, number][];
  /** Set while the member holds a tier their points and floors no longer support. */
  grace: Grace | null;
}

/** Plans kept at most (behavior-events only lets `monthly` and `annual` through; this is a safety bound). */
export const maxFloorsKept = 16;

export function initialTierState(): TierState {
  return { clock: null, tier: null, windowMs: 0, window: [], floors: [], grace: null };
}
