import type { ActivityEvent } from './activity-event.js';

/**
 * A `behavior.events` record (schemas/behavior.events.avsc) as a TypeScript type: the
 * input of the points, tier and churn workers. The activity's own fields, plus what
 * behavior-events adds. `type` may also be `referral` (credited to `userId`, the referrer).
 */
export interface BehaviorEventValue extends ActivityEvent {
  sourceEventId: string;
  referredUserId: string | null;
  stage: string;
  tags: string[];
  purchaseCount: number;
  totalSpendFen: number;
  activeDays: number;
  rulesVersion: string;
}
