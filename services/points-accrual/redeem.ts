import type { BehaviorEventValue } from '../../shared/contracts/behavior-event.js';
import { creditAvailable, post, type Draft, type EntryContext } from './ledger.js';
import { addToLots, takeFifo, type LotTouch } from './lots.js';
import { reasons } from './reasons.js';
import { availableOf, type Redemption } from './state.js';

function refuse(
  d: Draft,
  c: EntryContext,
  e: BehaviorEventValue,
  reason: string,
  amount: number,
  related: string | null,
): Draft {
  return post(d, c, d.state, {
    kind: 'refuse',
    points: 0,
    amount: Math.max(0, amount),
    lots: [],
    reason,
    at: e.occurredAt,
    related,
  });
}

/**
 * A redemption: a positive multiple of the redemption unit, drawn from the
 * lots that expire first (only available lots exist in `lots`: pending points
 * live apart and expired lots were removed before the event). Refused, with
 * nothing changed, when invalid or short.
 */
export function redeem(d: Draft, c: EntryContext, e: BehaviorEventValue): Draft {
  const points = e.points ?? 0;
  if (points <= 0 || points % c.rules.points.redemptionUnitPoints !== 0)
    return refuse(d, c, e, reasons.invalidRedeemAmount, points, null);
  if (availableOf(d.state) < points) return refuse(d, c, e, reasons.insufficientPoints, points, null);
  const r = takeFifo(d.state.lots, points);
  const redemption: Redemption = {
    id: e.sourceEventId,
    at: e.occurredAt,
    draws: r.touched.map((t) => [t.dueAt, -t.points]),
    cancelled: false,
  };
  const limit = c.rules.points.cancellableRedemptionsPerMember;
  const redemptions =
    limit === 0 ? [] : [...d.state.redemptions.filter((x) => x.id !== redemption.id), redemption].slice(-limit);
  return post(
    d,
    c,
    { ...d.state, lots: r.lots, redemptions },
    { kind: 'spend', points: -points, amount: points, lots: r.touched, reason: reasons.redeem, at: e.occurredAt },
  );
}

/**
 * Puts a redemption's points back into the lots it drew from, with their
 * original expiry (repaying debt first, like any incoming points). Points of
 * a lot that expired meanwhile are restored and expire at once (two entries).
 * Only redemptions within redemptionCancelDays (and the last
 * cancellableRedemptionsPerMember) are known; others are `redemption_unknown`.
 */
export function cancelRedemption(d: Draft, c: EntryContext, e: BehaviorEventValue): Draft {
  const found = d.state.redemptions.find((r) => r.id === e.redeemOf);
  if (!found) return refuse(d, c, e, reasons.redemptionUnknown, 0, e.redeemOf);
  const total = found.draws.reduce((t, [, p]) => t + p, 0);
  if (found.cancelled) return refuse(d, c, e, reasons.redemptionAlreadyCancelled, 0, e.redeemOf);
  const clock = d.state.clock ?? e.occurredAt;
  let state = {
    ...d.state,
    redemptions: d.state.redemptions.map((r) => (r.id === found.id ? { ...r, draws: [], cancelled: true } : r)),
  };
  const touched: LotTouch[] = [];
  const expired: LotTouch[] = [];
  for (const [expiresAt, points] of found.draws) {
    if (expiresAt <= clock) {
      // Back in its lot for one entry (no debt repayment: these points are gone), then expired.
      state = { ...state, lots: addToLots(state.lots, expiresAt, points) };
      expired.push({ bucket: 'available', dueAt: expiresAt, points });
      continue;
    }
    const r = creditAvailable(state, expiresAt, points);
    state = r.state;
    touched.push(...r.touched);
  }
  const related = e.redeemOf;
  let draft = post(d, c, state, {
    kind: 'restore',
    points: total,
    amount: total,
    lots: [...touched, ...expired],
    reason: reasons.redeemCancel,
    at: e.occurredAt,
    related,
  });
  const lost = expired.reduce((t, l) => t + l.points, 0);
  if (lost > 0) {
    const gone = new Set(expired.map((l) => l.dueAt));
    const lots = expired.map((l) => ({ ...l, points: -l.points }));
    const after = { ...draft.state, lots: draft.state.lots.filter((l) => !gone.has(l.expiresAt)) };
    draft = post(draft, c, after, {
      kind: 'expire',
      points: -lost,
      amount: lost,
      lots,
      reason: reasons.restoredIntoExpiredLot,
      at: e.occurredAt,
      related,
    });
  }
  return draft;
}
