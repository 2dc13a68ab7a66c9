/**
 * visit-streak, the example worker of docs/ADDING-A-WORKER.md: how many local days in a row a member has been
 * active, and their best run. Pure: no clock (days come from the event's own time), no I/O, no randomness.
 */
import type { BehaviorEventValue } from '../../../shared/contracts/behavior-event.js';
import type { DecideContext, Decision, Projection, WorkerLogic } from '../../../shared/kernel/types.js';
import { localDay } from '../../../shared/util/time.js';

export const workerName = 'visit-streak';

/** One member's state: small and bounded whatever the member does (three numbers). */
export interface StreakState {
  /** The last local day counted (days since 1970-01-01 in the rules' time zone), or null before any. */
  lastDay: number | null;
  streak: number;
  best: number;
}

/** Rejection codes: named once, in the dead letter's `reason`. */
export const reasons = { lateEvent: 'late_event' } as const;

/** Activity a person does themselves; refunds, cancellations and referral credits are not a visit. */
const visits = new Set(['purchase', 'lesson_complete', 'content_view', 'comment', 'share', 'checkin']);

export function decideStreak(s: StreakState, e: BehaviorEventValue, ctx: DecideContext): Decision<StreakState> {
  if (!visits.has(e.type)) return { kind: 'applied', state: s, outputs: [] };
  const day = localDay(e.occurredAt, ctx.rules.timeZone);
  if (s.lastDay !== null && day < s.lastDay) {
    // The message names the field and the rule, never the value.
    return {
      kind: 'rejected',
      rejection: { reason: reasons.lateEvent, message: "occurredAt: before the member's last counted day" },
    };
  }
  if (day === s.lastDay) return { kind: 'applied', state: s, outputs: [] };
  const streak = s.lastDay === day - 1 ? s.streak + 1 : 1;
  return { kind: 'applied', state: { lastDay: day, streak, best: Math.max(s.best, streak) }, outputs: [] };
}

export const streakLogic: WorkerLogic<StreakState, BehaviorEventValue> = {
  name: workerName,
  initialState: () => ({ lastDay: null, streak: 0, best: 0 }),
  decide: decideStreak,
  // A leaderboard other tools can read, written in the same atomic step as the state.
  projections: (memberId: string, s: StreakState): Projection[] =>
    s.best > 0 ? [{ name: 'best-streak', member: memberId, score: s.best }] : [],
};
