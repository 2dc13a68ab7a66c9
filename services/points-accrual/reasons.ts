/**
 * Reason codes of points.ledger entries. Consumers switch on them: add codes,
 * never rename. Earn/bonus entries carry the earning rule id or the multiplier
 * sources instead (see earning.ts).
 */
export const reasons = {
  // refuse entries: the event changed nothing
  invalidRedeemAmount: 'invalid_redeem_amount',
  insufficientPoints: 'insufficient_points',
  redemptionUnknown: 'redemption_unknown',
  redemptionAlreadyCancelled: 'redemption_already_cancelled',
  refundWithoutCredit: 'refund_without_credit',
  refundExceedsOriginal: 'refund_exceeds_original',
  invalidRefundAmount: 'invalid_refund_amount',
  /** A referral whose new member referred this referrer before (two members paying each other). */
  referralCycle: 'referral_cycle',
  /** A referral for a referrer with no activity of its own at or before the referral's time. */
  referrerInactive: 'referrer_inactive',
  /** More than points.referrals.paidPerDay paid referrals for this referrer on one local day. */
  referralDailyCap: 'referral_daily_cap',
  // movements
  redeem: 'redeem',
  redeemCancel: 'redeem_cancel',
  refund: 'refund',
  refundExceedsBalance: 'refund_exceeds_balance',
  pendingElapsed: 'pending_elapsed',
  expired: 'expired',
  restoredIntoExpiredLot: 'restored_into_expired_lot',
} as const;

export type ReasonCode = (typeof reasons)[keyof typeof reasons];
