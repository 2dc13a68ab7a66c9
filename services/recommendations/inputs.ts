/**
 * What reco-members reads: behavior events (items and category signals), churn-risk
 * events (win-back) and tier changes (upgrades), as one tagged union.
 */
import type { BehaviorEventValue } from '../../shared/contracts/behavior-event.js';
import type { ChurnRiskValue } from '../../shared/contracts/churn-risk.js';
import type { TierChange } from '../../shared/contracts/tier-change.js';

export type RecoInput =
  | { source: 'behavior'; event: BehaviorEventValue }
  | { source: 'churn'; event: ChurnRiskValue }
  | { source: 'tier'; event: TierChange };

/** One item's update as reco-items reads it (schemas/reco.item-updates.avsc). */
export interface ItemUpdateValue {
  eventId: string;
  itemId: string;
  addsMember: boolean;
  category: string | null;
  coItems: string[];
  userId: string;
  sourceEventId: string;
  sourcePartition: number;
  sourceOffset: number;
  occurredAt: number;
}
