/**
 * The tier-evaluation worker's outputs as other workers and consumers read them
 * (schemas/member.tier-changes.avsc, schemas/member.tiers.avsc): a contract, so it lives here and
 * reco-members reads it without importing tier-evaluation.
 */
export const changeKinds = ['initial', 'upgrade', 'downgrade', 'tier_at_risk', 'tier_kept'] as const;
export type ChangeKind = (typeof changeKinds)[number];

/** Why a decision was taken (add, never rename); several causes at one instant are joined with '+'. */
export const reasons = {
  pointsEarned: 'points_earned',
  pointsReversed: 'points_reversed',
  pointsLeftWindow: 'points_left_window',
  ledgerEntry: 'ledger_entry',
  subscription: 'subscription',
  planEnded: 'plan_ended',
  graceEnded: 'grace_ended',
  ladderChanged: 'ladder_changed',
  timePassed: 'time_passed',
} as const;
export type Reason = (typeof reasons)[keyof typeof reasons];

/** A member.tier-changes value (schemas/member.tier-changes.avsc). */
export interface TierChange {
  eventId: string;
  userId: string;
  kind: ChangeKind;
  previousTier: string | null;
  newTier: string;
  newTierLabel: string;
  /** `reasons` joined by '+' (the first schema's field, kept). */
  reason: string;
  /**
   * The causes, most decisive first. Always written; a record written before the field existed lacks it when
   * decoded with its own (writer) schema, as memberflow decodes: no memberflow reader relies on it.
   */
  reasons: Reason[];
  qualifyingPoints: number;
  pointsToNextTier: number | null;
  pointsToKeepTier: number | null;
  graceEndsAt: number | null;
  floorTier: string | null;
  benefits: string[];
  rulesVersion: string;
  decidedAt: number;
  sourceEventId: string;
  /** The member's place in decision order (`sequenceOf`), set by `sequenced`; like `reasons`, absent from older records. */
  sequence: string;
}

/** A member.tiers value (schemas/member.tiers.avsc): the latest tier, keyed by userId on a compacted topic. */
export interface MemberTier {
  userId: string;
  tier: string;
  tierLabel: string;
  qualifyingPoints: number;
  pointsToNextTier: number | null;
  pointsToKeepTier: number | null;
  graceEndsAt: number | null;
  floorTier: string | null;
  benefits: string[];
  updatedAt: number;
  changeEventId: string;
  sourceEventId: string;
  rulesVersion: string;
  /** The sequence of the change this record follows. */
  sequence: string;
}
