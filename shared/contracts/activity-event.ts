/** The input contract (schemas/activity.events.avsc) as a TypeScript type. */
export const activityTypes = [
  'signup',
  'purchase',
  'subscription',
  'refund',
  'lesson_complete',
  'content_view',
  'comment',
  'share',
  'checkin',
  'redeem',
  'redeem_cancel',
] as const;

export type ActivityType = (typeof activityTypes)[number];

export interface ActivityEvent {
  eventId: string;
  userId: string;
  /** Checked against `activityTypes` by validation, so unknown types get their own reason. */
  type: string;
  occurredAt: number;
  source: string | null;
  referrerId: string | null;
  amountFen: number | null;
  itemId: string | null;
  category: string | null;
  plan: string | null;
  periodEnd: number | null;
  refundOf: string | null;
  seconds: number | null;
  points: number | null;
  rewardId: string | null;
  redeemOf: string | null;
}

export function isActivityType(t: string): t is ActivityType {
  return (activityTypes as readonly string[]).includes(t);
}
