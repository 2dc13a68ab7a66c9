import { profileCodec } from './codec.js';
import type { Rules } from '../../shared/config/rules.js';
import type { DecideContext, Decision, OutputEvent, WorkerLogic } from '../../shared/kernel/types.js';
import type { ActivityEvent, ActivityType } from '../../shared/contracts/activity-event.js';
import { newProfile, updateProfile, type MemberProfile } from './profile.js';
import { validateActivity } from './validate.js';

export const workerName = 'behavior-events';

/** Deterministic output ids: one behavior event and at most one referral per input event. */
export const behaviorEventId = (sourceEventId: string) => `bhv:${sourceEventId}`;
export const referralEventId = (sourceEventId: string) => `ref:${sourceEventId}`;

/**
 * The behavior-events rules: validate meaning, update the member's profile,
 * emit the enriched event (and a referral keyed by the referrer on signup).
 */
export function decideBehavior(
  profile: MemberProfile,
  event: ActivityEvent,
  ctx: DecideContext,
): Decision<MemberProfile> {
  const rejection = validateActivity(event, profile, ctx.rules, ctx.record.timestamp);
  if (rejection) return { kind: 'rejected', rejection };
  const accepted = event as ActivityEvent & { type: ActivityType };
  const next = updateProfile(profile, accepted, ctx.rules);
  const outputs: OutputEvent[] = [behaviorEvent(accepted, next, ctx.rules)];
  // Only the first signup credits a referrer: a repeated signup (new eventId) must not pay twice.
  if (accepted.type === 'signup' && accepted.referrerId && profile.signedUpAt === null)
    outputs.push(referralEvent(accepted, ctx.rules));
  return { kind: 'applied', state: next, outputs };
}

function eventFields(e: ActivityEvent) {
  return {
    occurredAt: e.occurredAt,
    source: e.source,
    amountFen: e.amountFen,
    itemId: e.itemId,
    category: e.category,
    plan: e.plan,
    periodEnd: e.periodEnd,
    refundOf: e.refundOf,
    seconds: e.seconds,
    points: e.points,
    rewardId: e.rewardId,
    redeemOf: e.redeemOf,
  };
}

function behaviorEvent(e: ActivityEvent, p: MemberProfile, rules: Rules): OutputEvent {
  const id = behaviorEventId(e.eventId);
  return {
    topic: 'behavior.events',
    key: e.userId,
    id,
    value: {
      eventId: id,
      sourceEventId: e.eventId,
      userId: e.userId,
      type: e.type,
      ...eventFields(e),
      referrerId: e.referrerId,
      referredUserId: null,
      stage: p.stage,
      tags: p.tags,
      purchaseCount: p.purchaseCount,
      totalSpendFen: p.totalSpendFen,
      activeDays: p.activeDays,
      rulesVersion: rules.version,
    },
  };
}

/** Credit for the referrer belongs on the referrer's partition: re-keyed by referrerId. */
function referralEvent(e: ActivityEvent, rules: Rules): OutputEvent {
  const id = referralEventId(e.eventId);
  const referrer = e.referrerId as string;
  return {
    topic: 'behavior.events',
    key: referrer,
    id,
    value: {
      eventId: id,
      sourceEventId: e.eventId,
      userId: referrer,
      type: 'referral',
      ...eventFields({ ...e, amountFen: null, itemId: null, category: null }),
      referrerId: null,
      referredUserId: e.userId,
      stage: 'unknown',
      tags: [],
      purchaseCount: 0,
      totalSpendFen: 0,
      activeDays: 0,
      rulesVersion: rules.version,
    },
  };
}

export const behaviorLogic: WorkerLogic<MemberProfile, ActivityEvent> = {
  name: workerName,
  initialState: () => newProfile(),
  decide: decideBehavior,
  stateCodec: profileCodec,
};
