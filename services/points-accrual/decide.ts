import type { BehaviorEventValue } from '../../shared/contracts/behavior-event.js';
import type { DecideContext, Decision, TickContext, WorkerLogic } from '../../shared/kernel/types.js';
import { accrue } from './accrual.js';
import { pointsStateCodec } from './codec.js';
import { advance, nextDue, runDue } from './due.js';
import { emptyDraft, toOutput, type Draft, type EntryContext } from './ledger.js';
import { cancelRedemption, redeem } from './redeem.js';
import { noteOwnActivity, refuseReferral } from './referrals.js';
import { refund } from './refunds.js';
import { initialPointsState, type PointsState } from './state.js';

export const workerName = 'points-accrual';

function applyEvent(d: Draft, c: EntryContext, e: BehaviorEventValue): Draft {
  switch (e.type) {
    case 'redeem':
      return redeem(d, c, e);
    case 'redeem_cancel':
      return cancelRedemption(d, c, e);
    case 'refund':
      return refund(d, c, e);
    case 'referral':
      return refuseReferral(d, c, e) ?? accrue(d, c, e);
    default:
      return accrue({ ...d, state: noteOwnActivity(d.state, e) }, c, e);
  }
}

const applied = (d: Draft): Decision<PointsState> => ({
  kind: 'applied',
  state: d.state,
  outputs: d.entries.map(toOutput),
});

/**
 * One behavior event: first everything due up to the event's time (the same
 * work, with the same ids, a tick at that time would have done), then the
 * event, then anything the event itself made due at once (a credit so late it
 * is already past its expiry). Time never moves back: a late event is applied
 * against the state at the latest time seen.
 */
export function decidePoints(state: PointsState, e: BehaviorEventValue, ctx: DecideContext): Decision<PointsState> {
  const c: EntryContext = { memberId: e.userId, rules: ctx.rules, sourceEventId: e.eventId };
  if (e.type === 'subscription' && e.plan !== null && e.periodEnd !== null)
    c.subscription = { plan: e.plan, periodEnd: e.periodEnd };
  const caughtUp = advance(emptyDraft(state), c, e.occurredAt);
  const afterEvent = applyEvent(caughtUp, c, e);
  return applied(runDue(afterEvent, c, afterEvent.state.clock ?? e.occurredAt, false));
}

/** Time passing for a member who does nothing: pending points become available, lots expire. */
export function tickPoints(state: PointsState, memberId: string, tick: TickContext): Decision<PointsState> {
  const c: EntryContext = { memberId, rules: tick.rules, sourceEventId: tick.tickId };
  return applied(advance(emptyDraft(state), c, tick.time));
}

export const pointsLogic: WorkerLogic<PointsState, BehaviorEventValue> = {
  name: workerName,
  initialState: () => initialPointsState(),
  stateCodec: pointsStateCodec,
  decide: decidePoints,
  nextDue,
  onTick: tickPoints,
};
