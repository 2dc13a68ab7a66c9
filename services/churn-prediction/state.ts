import type { Band } from './bands.js';
import { noPurchases, type PurchaseStats } from './statistics.js';

/** A paid plan as the churn worker follows it, to flag the moment it lapses. */
export interface FollowedSubscription {
  plan: string;
  periodEnd: number;
  /** The lapse at `periodEnd` has been reported. */
  lapseReported: boolean;
}

/** What churn-prediction keeps per member (its Redis state). */
export interface ChurnState {
  stats: PurchaseStats;
  /** Latest event time seen: the member's clock (never moves back). */
  clock: number | null;
  /** Engagement recency: the latest activity of any kind. */
  lastActivityAt: number | null;
  /** Lifecycle stage from the latest behavior event. */
  stage: string;
  subscription: FollowedSubscription | null;
  band: Band | null;
  /** Instant (start of a local day) at which the band will change if nothing happens; null if never. */
  bandDueAt: number | null;
  /** Version of the parameters that decided `band` and `bandDueAt`. */
  modelVersion: string | null;
}

export function initialChurnState(): ChurnState {
  return {
    stats: noPurchases(),
    clock: null,
    lastActivityAt: null,
    stage: 'acquisition',
    subscription: null,
    band: null,
    bandDueAt: null,
    modelVersion: null,
  };
}

/** The earliest instant with time-driven work: a band change or a plan lapsing. */
export function nextDue(s: ChurnState): number | null {
  const lapse = s.subscription !== null && !s.subscription.lapseReported ? s.subscription.periodEnd : null;
  const times = [s.bandDueAt, lapse].filter((t): t is number => t !== null);
  return times.length === 0 ? null : Math.min(...times);
}
