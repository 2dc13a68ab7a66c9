import type { Rules } from '../../shared/config/rules.js';
import type { Rejection } from '../../shared/kernel/types.js';
import {
  activityTypes,
  isActivityType,
  type ActivityEvent,
  type ActivityType,
} from '../../shared/contracts/activity-event.js';
import { localDay } from '../../shared/util/time.js';
import { eventsOnDay, type MemberProfile } from './profile.js';
import { reasons } from './reasons.js';

const requiredFields: Record<ActivityType, readonly (keyof ActivityEvent)[]> = {
  signup: [],
  purchase: ['amountFen', 'itemId'],
  subscription: ['plan', 'amountFen', 'periodEnd'],
  refund: ['refundOf', 'amountFen'],
  lesson_complete: ['itemId'],
  content_view: ['itemId'],
  comment: ['itemId'],
  share: ['itemId'],
  checkin: [],
  redeem: ['points', 'rewardId'],
  redeem_cancel: ['redeemOf'],
};

/** Types that must carry money. A purchase may be free (a free course is still an enrolment, and counts as a purchase day for churn). */
const paidTypes = new Set<ActivityType>(['subscription', 'refund']);
const plans = new Set(['monthly', 'annual']);

const no = (reason: string, message: string): Rejection => ({ reason, message });

/**
 * What an event means, checked against the rules and the member's profile.
 * Returns null when the event is acceptable. Time is the record's timestamp,
 * never the wall clock, so a replay decides the same.
 */
export function validateActivity(
  e: ActivityEvent,
  profile: MemberProfile,
  rules: Rules,
  recordTimestamp: number,
): Rejection | null {
  if (!isActivityType(e.type)) return no(reasons.unknownType, `type must be one of ${activityTypes.join(', ')}`);
  const b = rules.behavior;
  if (e.type === 'refund' && (e.refundOf === null || e.refundOf === '')) {
    return no(reasons.refundWithoutOriginal, 'refund must name the refunded event in refundOf');
  }
  for (const field of requiredFields[e.type]) {
    const v = e[field];
    if (v === null || v === '') return no(reasons.missingField, `${e.type} requires ${field}`);
  }
  if (e.occurredAt > recordTimestamp + b.maxFutureSkewMs) {
    return no(
      reasons.occurredInFuture,
      `occurredAt must be at most behavior.maxFutureSkewMs (${b.maxFutureSkewMs} ms) after the record timestamp`,
    );
  }
  if (e.amountFen !== null) {
    if (e.amountFen < 0 || (paidTypes.has(e.type) && e.amountFen === 0)) {
      return no(
        reasons.invalidAmount,
        `amountFen must be ${e.type === 'purchase' ? 'a non-negative' : 'a positive'} integer for ${e.type}`,
      );
    }
    if (e.amountFen > b.maxAmountFen)
      return no(reasons.amountAboveCeiling, `amountFen must not exceed behavior.maxAmountFen (${b.maxAmountFen})`);
  }
  if (e.type === 'redeem' && e.points !== null && (e.points <= 0 || e.points > b.maxRedeemPoints)) {
    return no(reasons.invalidPoints, `points must be between 1 and behavior.maxRedeemPoints (${b.maxRedeemPoints})`);
  }
  if (e.seconds !== null && e.seconds < 0) return no(reasons.invalidSeconds, 'seconds must not be negative');
  if (e.type === 'subscription') {
    if (!plans.has(e.plan ?? '')) return no(reasons.invalidPlan, 'plan must be monthly or annual');
    if ((e.periodEnd ?? 0) <= e.occurredAt) return no(reasons.invalidPeriod, 'periodEnd must be after occurredAt');
  }
  if (e.type === 'signup' && e.referrerId !== null && e.referrerId === e.userId) {
    return no(reasons.selfReferral, 'a member cannot refer themselves');
  }
  if (e.type === 'refund') {
    const remaining = profile.refundable.find(([id]) => id === e.refundOf)?.[1];
    if (remaining === undefined && !profile.refundableTruncated) {
      return no(reasons.refundUnknownOriginal, 'refundOf must name a payment of this member');
    }
    if (remaining !== undefined && (e.amountFen ?? 0) > remaining) {
      return no(
        reasons.refundExceedsOriginal,
        'amountFen must not exceed what is still refundable on the payment refundOf names',
      );
    }
  }
  // Last, so an event that is wrong for another reason gets that reason. Event time only.
  const sameDay = eventsOnDay(profile, localDay(e.occurredAt, rules.timeZone));
  if (sameDay !== null && sameDay >= b.maxEventsPerMemberPerDay) {
    return no(
      reasons.dailyEventLimit,
      `the member already has ${sameDay} accepted events on the local day (${rules.timeZone}) of ` +
        `occurredAt, the limit of behavior.maxEventsPerMemberPerDay (${b.maxEventsPerMemberPerDay})`,
    );
  }
  return null;
}
