import type { LifecycleRules, Rules } from '../../shared/config/rules.js';
import { dayMs, localDay } from '../../shared/util/time.js';
import type { ActivityEvent, ActivityType } from '../../shared/contracts/activity-event.js';

export type LifecycleStage = 'acquisition' | 'activation' | 'retention' | 'value_add' | 'exit';
export type ProfileTag = 'high_value' | 'active' | 'dormant';

/** A member as the behavior-events worker knows them (its Redis state). */
export interface MemberProfile {
  firstSeenAt: number | null;
  lastActivityAt: number | null;
  signedUpAt: number | null;
  referrerId: string | null;
  purchaseCount: number;
  totalSpendFen: number;
  learningCount: number;
  /** Distinct active days (platform time zone), counted exactly while `recentDays` holds them all. */
  activeDays: number;
  /** Most recent distinct active days, ascending, as local day numbers; bounded. */
  recentDays: number[];
  recentCategories: string[];
  subscription: { plan: string; periodEnd: number } | null;
  /** Payments that may still be refunded: [eventId, fen still refundable], oldest first; bounded. */
  refundable: [string, number][];
  /** True once older payments fell out of `refundable`: an unknown refundOf may then be one of them. */
  refundableTruncated: boolean;
  stage: LifecycleStage;
  tags: ProfileTag[];
  /**
   * Accepted events per local day of event time (rules.timeZone), for
   * `behavior.maxEventsPerMemberPerDay`: [day, count], ascending by day, at most
   * `dailyCountDaysKept` entries (the member's most recent days with events); see `eventsOnDay`.
   * Absent in states written before the limit existed: read as empty.
   */
  dailyEvents?: [number, number][];
}

export const recentDaysKept = 120;

/** Local days whose accepted-event counts a profile keeps (the daily limit is exact for these). */
export const dailyCountDaysKept = 7;

export function newProfile(): MemberProfile {
  return {
    firstSeenAt: null,
    lastActivityAt: null,
    signedUpAt: null,
    referrerId: null,
    purchaseCount: 0,
    totalSpendFen: 0,
    learningCount: 0,
    activeDays: 0,
    recentDays: [],
    recentCategories: [],
    subscription: null,
    refundable: [],
    refundableTruncated: false,
    stage: 'acquisition',
    tags: [],
    dailyEvents: [],
  };
}

/**
 * Accepted events of this member on local day `day`, or null when that is no longer known.
 * Days are only ever forgotten oldest first, and only once `dailyCountDaysKept` are kept, so
 * every forgotten day is older than the oldest kept one. Hence: a kept day has its exact
 * count; a day not kept but newer than the oldest kept (or any day while fewer are kept) was
 * never counted: 0; a day older than all kept ones, with the list full, may have been
 * forgotten: null (the caller accepts such a late event and does not count it).
 */
export function eventsOnDay(p: MemberProfile, day: number): number | null {
  const kept = p.dailyEvents ?? [];
  const entry = kept.find(([d]) => d === day);
  if (entry) return entry[1];
  const oldest = kept[0]?.[0];
  if (kept.length >= dailyCountDaysKept && oldest !== undefined && day < oldest) return null;
  return 0;
}

/** Day counts after one more accepted event on `day` (unchanged when the day is no longer known). Pure. */
export function countDailyEvent(p: MemberProfile, day: number): [number, number][] {
  const kept = p.dailyEvents ?? [];
  const known = eventsOnDay(p, day);
  if (known === null) return kept;
  if (known > 0) return kept.map(([d, n]) => (d === day ? [d, n + 1] : [d, n]));
  const next = [...kept, [day, 1] as [number, number]].sort((a, b) => a[0] - b[0]);
  return next.length > dailyCountDaysKept ? next.slice(next.length - dailyCountDaysKept) : next;
}

/** Events that show a member is using the platform (refunds and cancellations do not). */
const engagementTypes = new Set<ActivityType>([
  'signup',
  'purchase',
  'subscription',
  'lesson_complete',
  'content_view',
  'comment',
  'share',
  'checkin',
  'redeem',
]);
const learningTypes = new Set<ActivityType>(['lesson_complete', 'content_view']);

/** The profile after one accepted event. Pure. */
export function updateProfile(
  p: MemberProfile,
  e: ActivityEvent & { type: ActivityType },
  rules: Rules,
): MemberProfile {
  const b = rules.behavior;
  const next: MemberProfile = { ...p };
  next.dailyEvents = countDailyEvent(p, localDay(e.occurredAt, rules.timeZone));
  next.firstSeenAt = p.firstSeenAt === null ? e.occurredAt : Math.min(p.firstSeenAt, e.occurredAt);
  if (engagementTypes.has(e.type)) {
    next.lastActivityAt = p.lastActivityAt === null ? e.occurredAt : Math.max(p.lastActivityAt, e.occurredAt);
    Object.assign(next, countDay(p, localDay(e.occurredAt, rules.timeZone)));
  }
  if (e.category) {
    next.recentCategories = [e.category, ...p.recentCategories.filter((c) => c !== e.category)].slice(
      0,
      b.recentCategoriesPerMember,
    );
  }
  switch (e.type) {
    case 'signup':
      next.signedUpAt = p.signedUpAt ?? e.occurredAt;
      next.referrerId = p.referrerId ?? e.referrerId;
      break;
    case 'purchase':
    case 'subscription': {
      const amount = e.amountFen ?? 0;
      next.purchaseCount = p.purchaseCount + 1;
      next.totalSpendFen = p.totalSpendFen + amount;
      const refundable = [...p.refundable, [e.eventId, amount] as [string, number]];
      next.refundable = refundable.slice(-b.refundableHistoryPerMember);
      next.refundableTruncated = p.refundableTruncated || next.refundable.length < refundable.length;
      if (e.type === 'subscription' && e.plan && e.periodEnd !== null) {
        const current = p.subscription;
        // Keep the plan that runs longest: a monthly renewal must not shorten an annual plan.
        if (!current || e.periodEnd >= current.periodEnd) next.subscription = { plan: e.plan, periodEnd: e.periodEnd };
      }
      break;
    }
    case 'refund': {
      const amount = e.amountFen ?? 0;
      next.totalSpendFen = Math.max(0, p.totalSpendFen - amount);
      next.refundable = p.refundable.map(([id, left]) => (id === e.refundOf ? [id, left - amount] : [id, left]));
      break;
    }
    case 'lesson_complete':
    case 'content_view':
      if (learningTypes.has(e.type)) next.learningCount = p.learningCount + 1;
      break;
    default:
      break;
  }
  const at = Math.max(e.occurredAt, next.lastActivityAt ?? e.occurredAt);
  next.stage = lifecycleStage(next, at, b.lifecycle);
  next.tags = profileTags(next, at, b.lifecycle, rules.timeZone);
  return next;
}

function countDay(p: MemberProfile, day: number): Pick<MemberProfile, 'activeDays' | 'recentDays'> {
  if (p.recentDays.includes(day)) return { activeDays: p.activeDays, recentDays: p.recentDays };
  const oldest = p.recentDays[0];
  const windowFull = p.recentDays.length >= recentDaysKept;
  // A late event for a day older than the kept window may be a day already counted: do not count it twice.
  if (windowFull && oldest !== undefined && day < oldest) return { activeDays: p.activeDays, recentDays: p.recentDays };
  const recentDays = [...p.recentDays, day].sort((a, b) => a - b);
  if (recentDays.length > recentDaysKept) recentDays.shift();
  return { activeDays: p.activeDays + 1, recentDays };
}

function isHighValue(p: MemberProfile, at: number, l: LifecycleRules): boolean {
  const annual = l.highValueOnAnnualPlan && p.subscription?.plan === 'annual' && p.subscription.periodEnd > at;
  return p.totalSpendFen >= l.highValueSpendFen || annual;
}

/** The lifecycle stage at instant `at` (event time). */
export function lifecycleStage(p: MemberProfile, at: number, l: LifecycleRules): LifecycleStage {
  if (p.lastActivityAt !== null && at - p.lastActivityAt >= l.exitAfterDays * dayMs) return 'exit';
  if (isHighValue(p, at, l)) return 'value_add';
  const engaged = p.purchaseCount > 0 || p.learningCount > 0;
  if (!engaged) return 'acquisition';
  return p.activeDays >= l.retentionMinActiveDays ? 'retention' : 'activation';
}

/** Profile tags at instant `at` (event time). */
export function profileTags(p: MemberProfile, at: number, l: LifecycleRules, timeZone: string): ProfileTag[] {
  const tags: ProfileTag[] = [];
  if (isHighValue(p, at, l)) tags.push('high_value');
  const windowStart = localDay(at, timeZone) - l.activeWindowDays;
  const daysInWindow = p.recentDays.filter((d) => d > windowStart).length;
  if (daysInWindow >= l.activeMinDays) tags.push('active');
  if (p.lastActivityAt !== null && at - p.lastActivityAt >= l.dormantAfterDays * dayMs) tags.push('dormant');
  return tags;
}
