import type { BehaviorEventValue } from '../../shared/contracts/behavior-event.js';
import { addQualifying, post, type Draft, type EntryContext } from './ledger.js';
import { takeFifo, takeFromLot, takeFromPending, type LotTouch } from './lots.js';
import { reasons } from './reasons.js';
import type { Credit, PointsState } from './state.js';

/**
 * Pro rata, integer: after refunds totalling `refundedFen` of `amountFen`, the
 * credit has lost floor(earned × refundedFen / amountFen) points (rounded down,
 * in the member's favour; a full refund takes back exactly `earned`). BigInt
 * keeps the product exact.
 */
export function reversedAfter(earned: number, refundedFen: number, amountFen: number): number {
  return Number((BigInt(earned) * BigInt(refundedFen)) / BigInt(amountFen));
}

const refuse = (d: Draft, c: EntryContext, e: BehaviorEventValue, reason: string): Draft =>
  post(d, c, d.state, {
    kind: 'refuse',
    points: 0,
    amount: 0,
    lots: [],
    reason,
    at: e.occurredAt,
    related: e.refundOf,
  });

/**
 * A refund takes back what its payment earned: pending points of that payment
 * first, then its own lot, then the lots expiring first; what is already spent
 * becomes debt. A refund of a payment this worker holds no credit for (never
 * seen, or older than the last refundableCreditsPerMember payments) or above
 * what is left of it is refused with a ledger entry and changes nothing.
 */
export function refund(d: Draft, c: EntryContext, e: BehaviorEventValue): Draft {
  const amount = e.amountFen;
  if (amount === null || amount <= 0) return refuse(d, c, e, reasons.invalidRefundAmount);
  const credit = d.state.credits.find((x) => x.id === e.refundOf);
  if (!credit) return refuse(d, c, e, reasons.refundWithoutCredit);
  const refundedFen = credit.refundedFen + amount;
  if (refundedFen > credit.amountFen) return refuse(d, c, e, reasons.refundExceedsOriginal);
  const target = reversedAfter(credit.earned, refundedFen, credit.amountFen);
  const points = target - credit.reversed;
  const updated: Credit = { ...credit, refundedFen, reversed: target };
  const withCredit = { ...d.state, credits: d.state.credits.map((x) => (x.id === credit.id ? updated : x)) };
  if (points <= 0) return { ...d, state: withCredit };
  return takeBack({ ...d, state: withCredit }, c, e, updated, points);
}

function takeBack(d: Draft, c: EntryContext, e: BehaviorEventValue, credit: Credit, points: number): Draft {
  let s: PointsState = addQualifying(d.state, e.occurredAt, -points, c.rules);
  const touched: LotTouch[] = [];
  let left = points;
  if (credit.availableAt !== null && credit.pending > 0) {
    const r = takeFromPending(s.pending, credit.availableAt, Math.min(left, credit.pending));
    const rest = credit.pending - r.taken;
    s = {
      ...s,
      pending: r.lots,
      credits: s.credits.map((x) =>
        x.id === credit.id ? { ...x, pending: rest, availableAt: rest > 0 ? x.availableAt : null } : x,
      ),
    };
    touched.push(...r.touched);
    left -= r.taken;
  }
  const own = takeFromLot(s.lots, credit.expiresAt, left);
  left -= own.taken;
  const fifo = takeFifo(own.lots, left);
  left -= fifo.taken;
  touched.push(...own.touched, ...fifo.touched);
  s = { ...s, lots: fifo.lots };
  let draft = d;
  const fromBalance = points - left;
  const related = e.refundOf;
  if (fromBalance > 0) {
    draft = post(draft, c, s, {
      kind: 'reverse',
      points: -fromBalance,
      amount: fromBalance,
      lots: touched,
      reason: reasons.refund,
      at: e.occurredAt,
      related,
    });
  }
  if (left > 0) {
    draft = post(
      draft,
      c,
      { ...s, debt: s.debt + left },
      {
        kind: 'debt',
        points: -left,
        amount: left,
        lots: [],
        reason: reasons.refundExceedsBalance,
        at: e.occurredAt,
        related,
      },
    );
  }
  return draft;
}
