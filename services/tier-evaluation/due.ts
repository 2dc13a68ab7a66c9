import { dayMs } from '../../shared/util/time.js';
import type { Rules } from '../../shared/config/rules.js';
import { dueBase, reasons } from './events.js';
import { evaluate, type Draft, type EvalContext } from './evaluate.js';
import { nextFloorEnd, pruneFloors } from './floors.js';
import type { TierState } from './state.js';
import { nextExit, pruneWindow } from './window.js';

export const windowMs = (rules: Rules): number => rules.tiers.windowDays * dayMs;

/**
 * The earliest instant with time-driven work: the oldest movement leaving the
 * window, a grace period ending, or a subscription ending. Every one of them
 * is evaluated (most change nothing and emit nothing).
 */
export function nextDue(s: TierState): number | null {
  const times = [nextExit(s.window, s.windowMs), s.grace?.endsAt ?? null, nextFloorEnd(s.floors)].filter(
    (t): t is number => t !== null,
  );
  return times.length === 0 ? null : Math.min(...times);
}

/**
 * Applies everything due at or before `until`, instant by instant in time
 * order: at one instant, movements leave the window and subscriptions end
 * first, then the tier is decided (a grace period ending then sees the points
 * of that very instant). Then moves the clock to `until` (never back).
 */
export function advance(d: Draft, c: EvalContext, until: number): Draft {
  let draft: Draft = { ...d, state: { ...d.state, windowMs: windowMs(c.rules) } };
  for (;;) {
    const s = draft.state;
    const due = nextDue(s);
    if (due === null || due > until) break;
    const at = Math.max(due, s.clock ?? due);
    const causes: string[] = [];
    const window = pruneWindow(s.window, s.windowMs, at);
    if (window.length !== s.window.length) causes.push(reasons.pointsLeftWindow);
    const floors = pruneFloors(s.floors, at);
    if (floors.length !== s.floors.length) causes.push(reasons.planEnded);
    if (s.grace !== null && s.grace.endsAt <= at) causes.push(reasons.graceEnded);
    const moved: TierState = { ...s, clock: at, window, floors };
    draft = evaluate({ ...draft, state: moved }, c, at, dueBase(c.memberId, at), causes);
    // A grace period that ended with the member supported again (or that nothing replaced) is over.
    if (draft.state.grace !== null && draft.state.grace.endsAt <= at)
      draft = { ...draft, state: { ...draft.state, grace: null } };
  }
  const clock = Math.max(draft.state.clock ?? until, until);
  return { ...draft, state: { ...draft.state, clock } };
}
