import type { OutputEvent } from '../../shared/kernel/types.js';

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
  /** The causes, most decisive first; absent in records of the first schema (read as []). */
  reasons?: Reason[];
  qualifyingPoints: number;
  pointsToNextTier: number | null;
  pointsToKeepTier: number | null;
  graceEndsAt: number | null;
  floorTier: string | null;
  benefits: string[];
  rulesVersion: string;
  decidedAt: number;
  sourceEventId: string;
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
}

/** Id base of a decision about an input: `tier:<source event id>`. */
export const inputBase = (sourceEventId: string) => `tier:${sourceEventId}`;
/** Id base of time-driven work: member and instant, not the trigger, so a tick or a later event give the same ids. */
export const dueBase = (memberId: string, at: number) => `tier:due:${memberId}:${at}`;
/** A change's id: its decision's base and its kind (a decision emits each kind at most once). */
export const changeId = (base: string, kind: ChangeKind) => `${base}:${kind}`;

/** The change event and the member.tiers record that goes with it (id: the change's id + ':tiers'). */
export function changeOutputs(change: TierChange): OutputEvent[] {
  const record: MemberTier = {
    userId: change.userId,
    tier: change.newTier,
    tierLabel: change.newTierLabel,
    qualifyingPoints: change.qualifyingPoints,
    pointsToNextTier: change.pointsToNextTier,
    pointsToKeepTier: change.pointsToKeepTier,
    graceEndsAt: change.graceEndsAt,
    floorTier: change.floorTier,
    benefits: [...change.benefits],
    updatedAt: change.decidedAt,
    changeEventId: change.eventId,
    sourceEventId: change.sourceEventId,
    rulesVersion: change.rulesVersion,
  };
  return [
    { topic: 'member.tier-changes', key: change.userId, id: change.eventId, value: { ...change, benefits: [...change.benefits] } },
    { topic: 'member.tiers', key: change.userId, id: `${change.eventId}:tiers`, value: { ...record } },
  ];
}
