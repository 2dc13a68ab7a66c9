import type { BehaviorEventValue } from '../../shared/contracts/behavior-event.js';

/** A behavior.events value with every optional field null, stage `activation` and rules version `b`. */
export function behaviorEvent(
  partial: Partial<BehaviorEventValue> & Pick<BehaviorEventValue, 'eventId' | 'sourceEventId' | 'userId' | 'type'>,
): BehaviorEventValue {
  return {
    occurredAt: Date.UTC(2026, 0, 10, 4, 0, 0),
    source: null,
    amountFen: null,
    itemId: null,
    category: null,
    plan: null,
    periodEnd: null,
    refundOf: null,
    seconds: null,
    points: null,
    rewardId: null,
    redeemOf: null,
    referrerId: null,
    referredUserId: null,
    stage: 'activation',
    tags: [],
    purchaseCount: 0,
    totalSpendFen: 0,
    activeDays: 0,
    rulesVersion: 'b',
    ...partial,
  };
}
