import type { BehaviorEventValue } from '../../shared/contracts/behavior-event.js';
import { availabilityFor, expiryFor } from './due.js';
import { awardsFor, multiplierFor } from './earning.js';
import { addQualifying, creditAvailable, post, type Draft, type EntryContext } from './ledger.js';
import { addToPending, type LotTouch } from './lots.js';
import type { Credit, PointsState } from './state.js';

/** Payments: their credits are remembered so that a refund can take them back. */
const paymentTypes = new Set(['purchase', 'subscription']);

interface Landing {
  toPending: boolean;
  availableAt: number;
  expiresAt: number;
}

/** Where an event's points go: pending until the refund window ends (if configured for its type), else available now. */
function landingFor(d: Draft, c: EntryContext, e: BehaviorEventValue): Landing {
  const p = c.rules.points;
  const pendingApplies = p.pendingDays > 0 && p.pendingEventTypes.includes(e.type);
  const availableAt = pendingApplies ? availabilityFor(e.occurredAt, c.rules) : e.occurredAt;
  // A late event whose window already ended is credited as available at once.
  const toPending = pendingApplies && availableAt > (d.state.clock ?? availableAt - 1);
  return { toPending, availableAt, expiresAt: expiryFor(availableAt, c.rules) };
}

function creditOne(
  d: Draft,
  c: EntryContext,
  e: BehaviorEventValue,
  land: Landing,
  points: number,
  kind: 'earn' | 'bonus',
  reason: string,
): Draft {
  let state: PointsState;
  let touched: LotTouch[];
  if (land.toPending) {
    state = { ...d.state, pending: addToPending(d.state.pending, land.availableAt, points) };
    touched = [{ bucket: 'pending', dueAt: land.availableAt, points }];
  } else {
    ({ state, touched } = creditAvailable(d.state, land.expiresAt, points));
  }
  state = addQualifying(state, e.occurredAt, points, c.rules);
  return post(d, c, state, {
    kind: land.toPending ? 'pending' : kind,
    points,
    amount: points,
    lots: touched,
    reason,
    at: e.occurredAt,
  });
}

/**
 * Earning: one entry per rule that awards (reason = rule id), then one bonus
 * entry for the multipliers (reason = their sources joined by '+'). Pending
 * credits are entries of kind `pending` with the same reasons.
 */
export function accrue(d: Draft, c: EntryContext, e: BehaviorEventValue): Draft {
  const { awards, usage } = awardsFor(e, d.state.usage, c.rules);
  const { factor, sources } = multiplierFor(e, c.rules);
  const land = landingFor(d, c, e);
  let draft: Draft = { ...d, state: { ...d.state, usage } };
  for (const a of awards) draft = creditOne(draft, c, e, land, a.points, 'earn', a.ruleId);
  const base = awards.reduce((t, a) => t + a.points, 0);
  const bonus = base * (factor - 1);
  if (bonus > 0) draft = creditOne(draft, c, e, land, bonus, 'bonus', sources.join('+'));
  if (!paymentTypes.has(e.type) || e.amountFen === null || e.amountFen <= 0) return draft;
  const credit: Credit = {
    id: e.sourceEventId,
    amountFen: e.amountFen,
    refundedFen: 0,
    earned: base + bonus,
    reversed: 0,
    pending: land.toPending ? base + bonus : 0,
    availableAt: land.toPending ? land.availableAt : null,
    expiresAt: land.expiresAt,
  };
  const credits = [...draft.state.credits.filter((x) => x.id !== credit.id), credit].slice(
    -c.rules.points.refundableCreditsPerMember,
  );
  return {
    ...draft,
    state: { ...draft.state, credits: c.rules.points.refundableCreditsPerMember === 0 ? [] : credits },
  };
}
