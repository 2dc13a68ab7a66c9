/**
 * A member's points state (its Redis value). Every list is bounded, see
 * README.md in this folder for the byte bound.
 */

/** Available points that expire together: lots are keyed (and merged) by expiry instant, always a local-day start. */
export interface Lot {
  expiresAt: number;
  points: number;
}

/** Points waiting out the refund window, keyed (and merged) by the instant they become available. */
export interface PendingLot {
  availableAt: number;
  points: number;
}

/** A payment that earned points, kept so that a refund can take them back. */
export interface Credit {
  /** Activity event id of the purchase/subscription (what `refundOf` names). */
  id: string;
  amountFen: number;
  refundedFen: number;
  earned: number;
  reversed: number;
  /** Points of this credit still pending, and when they become available (null: none pending). */
  pending: number;
  availableAt: number | null;
  /** The lot this credit's points land (or landed) in. */
  expiresAt: number;
}

/** A redemption that can still be cancelled: the lots it drew from, as [expiresAt, points]. */
export interface Redemption {
  /** Activity event id of the redeem (what `redeemOf` names). */
  id: string;
  at: number;
  draws: [number, number][];
  cancelled: boolean;
}

export interface PointsState {
  /** The latest instant applied (event or tick time); time-driven work up to it is done. */
  clock: number | null;
  /** Ascending by expiresAt, every lot > 0 points. */
  lots: Lot[];
  /** Ascending by availableAt, every lot > 0 points. */
  pending: PendingLot[];
  /** Points owed after refunds of spent points; > 0 only when `lots` is empty. */
  debt: number;
  /** Newest last; at most rules.points.refundableCreditsPerMember. */
  credits: Credit[];
  /** Newest last; within the cancel window and at most rules.points.cancellableRedemptionsPerMember. */
  redemptions: Redemption[];
  /** `${ruleId}|${period}` → [periodKey, awards] for the most recent periods, ascending. */
  usage: Record<string, [number, number][]>;
  /** Qualifying points per local day, [day, net points] ascending, within the qualifying window. */
  qualifying: [number, number][];
  /** Who referred this member (their first signup's referrerId): a referral back to them is a cycle. Absent: nobody. */
  referredBy?: string;
  /** Event time of the member's earliest own activity: a referrer needs one at or before the referral. Absent: none yet. */
  activeSince?: number;
}

export function initialPointsState(): PointsState {
  return { clock: null, lots: [], pending: [], debt: 0, credits: [], redemptions: [], usage: {}, qualifying: [] };
}

/** Usage counters kept per rule and period: enough for events a few periods late. */
export const usagePeriodsKept = 4;

export const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);
export const availableOf = (s: PointsState): number => sum(s.lots.map((l) => l.points));
export const pendingOf = (s: PointsState): number => sum(s.pending.map((l) => l.points));
