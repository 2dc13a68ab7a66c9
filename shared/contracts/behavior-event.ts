/** A `behavior.events` record (schemas/behavior.events.avsc) as a TypeScript type: the input of the points, tier and churn workers. */
export interface BehaviorEventValue {
  eventId: string;
  sourceEventId: string;
  userId: string;
  /** An activity type, or `referral` (credited to `userId`, the referrer). */
  type: string;
  occurredAt: number;
  source: string | null;
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
  referrerId: string | null;
  referredUserId: string | null;
  stage: string;
  tags: string[];
  purchaseCount: number;
  totalSpendFen: number;
  activeDays: number;
  rulesVersion: string;
}
