import type { ChangeKind, MemberTier, TierChange } from '../../shared/contracts/tier-change.js';
import type { OutputEvent } from '../../shared/kernel/types.js';

export {
  changeKinds,
  reasons,
  type ChangeKind,
  type MemberTier,
  type Reason,
  type TierChange,
} from '../../shared/contracts/tier-change.js';

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
    sequence: change.sequence,
  };
  return [
    {
      topic: 'member.tier-changes',
      key: change.userId,
      id: change.eventId,
      value: { ...change, benefits: [...change.benefits] },
    },
    { topic: 'member.tiers', key: change.userId, id: `${change.eventId}:tiers`, value: { ...record } },
  ];
}

/**
 * A member's tier records in decision order, as a string of fixed widths (string order is decision
 * order): the offset of the points.ledger record the decision was made on (a member's records are
 * one partition, and memberflow never re-decides an offset once published, promotes included), then
 * the change's place among that record's changes for the member. Six digits hold the most one
 * record can bring: two changes per due instant, at most `maxWindowEntries` (100,000) window exits
 * plus a few plan and grace ends.
 */
export const sequenceOf = (inputOffset: string, ordinal: number): string =>
  `${inputOffset.padStart(19, '0')}-${String(ordinal).padStart(6, '0')}`;

/** Numbers the tier changes of one input record's outputs (one member's) and gives each member.tiers record its change's number. */
export function sequenced(outputs: readonly OutputEvent[], inputOffset: string): OutputEvent[] {
  const byChange = new Map<string, string>();
  const numbered = outputs.map((o) => {
    if (o.topic !== 'member.tier-changes') return o;
    const sequence = sequenceOf(inputOffset, byChange.size);
    byChange.set(o.id, sequence);
    return { ...o, value: { ...o.value, sequence } };
  });
  return numbered.map((o) => {
    if (o.topic !== 'member.tiers') return o;
    const sequence = byChange.get((o.value as unknown as MemberTier).changeEventId);
    if (sequence === undefined) throw new Error('member.tiers record without its change among the same outputs');
    return { ...o, value: { ...o.value, sequence } };
  });
}
