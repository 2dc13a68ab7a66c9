/** A `member.churn-risk` value (schemas/member.churn-risk.avsc). */
export const churnReasons = ['band_assigned', 'band_changed', 'subscription_lapsed'] as const;
export type ChurnReason = (typeof churnReasons)[number];

export interface ChurnRiskValue {
  eventId: string;
  sourceEventId: string;
  userId: string;
  reason: ChurnReason;
  previousBand: string | null;
  band: string;
  pAlive: number;
  expectedPurchases: number;
  horizonDays: number;
  expectedAverageSpendFen: number | null;
  lifetimeValueFen: number | null;
  frequency: number;
  recencyDays: number;
  ageDays: number;
  lastActivityAt: number | null;
  lifecycleStage: string;
  plan: string | null;
  periodEnd: number | null;
  modelVersion: string;
  rulesVersion: string;
  occurredAt: number;
}
