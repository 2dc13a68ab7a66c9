import type { Rules } from '../../shared/config/rules.js';
import { dayMs } from '../../shared/util/time.js';
import { localDay, startOfDayAfter } from '../../shared/util/calendar.js';
import { creditAvailable, post, type Draft, type EntryContext, type EntryKind } from './ledger.js';
import { pruneUsage } from './earning.js';
import { reasons } from './reasons.js';
import type { PendingLot, PointsState } from './state.js';

/** Points become available at the end of the local day `pendingDays` after the event (never sooner than N days). */
export function availabilityFor(occurredAt: number, rules: Rules): number {
  return startOfDayAfter(occurredAt, rules.points.pendingDays + 1, rules.timeZone);
}

/**
 * A lot expires at the end of the local day `expiryDays` after it became
 * available: rounding up to a day boundary is what lets lots of one day merge.
 */
export function expiryFor(availableAt: number, rules: Rules): number {
  return startOfDayAfter(availableAt, rules.points.expiryDays + 1, rules.timeZone);
}

/** The earliest instant with time-driven work: a pending lot becoming available or a lot expiring. */
export function nextDue(s: PointsState): number | null {
  const times = [s.pending[0]?.availableAt, s.lots[0]?.expiresAt].filter((t): t is number => t !== undefined);
  return times.length === 0 ? null : Math.min(...times);
}

/**
 * Ids of due work: derived from the member, the kind and the due instant, not
 * from what triggered it, so an expiry has the same id whether a tick or a
 * later event brought it about. Each (kind, instant) is due at most once:
 * lots merge by instant and nothing is left due at or before the clock.
 */
export const dueId = (memberId: string, kind: EntryKind, at: number) => `pts:due:${memberId}:${kind}:${at}`;

/**
 * Applies everything due at or before `until`, in time order; at one instant
 * availability comes before expiry. `ownIds` false numbers entries within the
 * decision instead (for points a late event made due at once).
 */
export function runDue(d: Draft, c: EntryContext, until: number, ownIds = true): Draft {
  let draft = d;
  for (;;) {
    const s = draft.state;
    const next = nextDue(s);
    if (next === null || next > until) return draft;
    const pending = s.pending[0];
    draft =
      pending && pending.availableAt === next
        ? makeAvailable(draft, c, pending, ownIds)
        : expireFirst(draft, c, ownIds);
  }
}

function makeAvailable(d: Draft, c: EntryContext, p: PendingLot, ownIds: boolean): Draft {
  const s = d.state;
  const moved: PointsState = {
    ...s,
    clock: Math.max(s.clock ?? p.availableAt, p.availableAt),
    pending: s.pending.slice(1),
    credits: s.credits.map((cr) => (cr.availableAt === p.availableAt ? { ...cr, pending: 0, availableAt: null } : cr)),
  };
  const { state, touched } = creditAvailable(moved, expiryFor(p.availableAt, c.rules), p.points);
  return post(d, c, state, {
    kind: 'available',
    points: 0,
    amount: p.points,
    at: p.availableAt,
    reason: reasons.pendingElapsed,
    lots: [{ bucket: 'pending', dueAt: p.availableAt, points: -p.points }, ...touched],
    ...(ownIds ? { id: dueId(c.memberId, 'available', p.availableAt) } : {}),
  });
}

function expireFirst(d: Draft, c: EntryContext, ownIds: boolean): Draft {
  const s = d.state;
  const lot = s.lots[0]!;
  const state: PointsState = { ...s, clock: Math.max(s.clock ?? lot.expiresAt, lot.expiresAt), lots: s.lots.slice(1) };
  return post(d, c, state, {
    kind: 'expire',
    points: -lot.points,
    amount: lot.points,
    at: lot.expiresAt,
    reason: reasons.expired,
    lots: [{ bucket: 'available', dueAt: lot.expiresAt, points: -lot.points }],
    ...(ownIds ? { id: dueId(c.memberId, 'expire', lot.expiresAt) } : {}),
  });
}

/** Moves the clock to `until` (never back), doing the due work on the way, then drops what can no longer matter. */
export function advance(d: Draft, c: EntryContext, until: number): Draft {
  const done = runDue(d, c, until);
  const clock = Math.max(done.state.clock ?? until, until);
  return { ...done, state: prune({ ...done.state, clock }, c.rules) };
}

/**
 * Bounds: qualifying days out of the window, redemptions past their cancel
 * window, usage counters of rules that no longer exist.
 */
export function prune(s: PointsState, rules: Rules): PointsState {
  if (s.clock === null) return s;
  const p = rules.points;
  const firstDay = localDay(s.clock, rules.timeZone) - p.qualifyingWindowDays;
  const clock = s.clock;
  return {
    ...s,
    qualifying: s.qualifying.filter(([day]) => day > firstDay),
    redemptions: s.redemptions.filter((r) => r.at + p.redemptionCancelDays * dayMs > clock),
    usage: pruneUsage(s.usage, p),
  };
}
