import type { BehaviorEventValue } from '../../shared/contracts/behavior-event.js';
import type { EarningRule } from './earning.js';
import { earningRules, usageAllows } from './earning.js';
import { post, type Draft, type EntryContext } from './ledger.js';
import { reasons } from './reasons.js';
import type { PointsState } from './state.js';

/**
 * Referral abuse controls (rules.points.referrals). A referral is re-keyed to the referrer
 * upstream, so every control reads the referrer's own state only: the reference run and any
 * replay decide the same, and no decision waits for another member.
 */

/** The built-in referral rule, whose daily usage limit counts the paid referrals (earning.ts). */
const referralRule = (c: EntryContext): EarningRule =>
  earningRules(c.rules.points).find((r) => r.id === 'base:referral')!;

/** The member's own activity, remembered for the checks on referrals that name them as referrer. */
export function noteOwnActivity(s: PointsState, e: BehaviorEventValue): PointsState {
  if (e.type === 'referral') return s;
  let next = s;
  if (s.activeSince === undefined || e.occurredAt < s.activeSince) next = { ...next, activeSince: e.occurredAt };
  if (e.type === 'signup' && e.referrerId !== null && e.referrerId !== '' && s.referredBy === undefined)
    next = { ...next, referredBy: e.referrerId };
  return next;
}

/** Why a referral pays nothing, or null when it pays. */
export function referralRefusal(s: PointsState, e: BehaviorEventValue, c: EntryContext): string | null {
  const r = c.rules.points.referrals;
  if (r.refuseCycles && s.referredBy !== undefined && s.referredBy === e.referredUserId) return reasons.referralCycle;
  if (r.requireEarlierActivity && (s.activeSince === undefined || s.activeSince > e.occurredAt))
    return reasons.referrerInactive;
  if (!usageAllows(s.usage, referralRule(c), e.occurredAt, c.rules.timeZone)) return reasons.referralDailyCap;
  return null;
}

/** A refused referral's ledger entry (nothing else changes), or null: earning goes on and counts it as paid. */
export function refuseReferral(d: Draft, c: EntryContext, e: BehaviorEventValue): Draft | null {
  const refusal = referralRefusal(d.state, e, c);
  if (refusal === null) return null;
  return post(d, c, d.state, {
    kind: 'refuse',
    points: 0,
    amount: 0,
    lots: [],
    reason: refusal,
    at: e.occurredAt,
    related: e.sourceEventId,
  });
}
