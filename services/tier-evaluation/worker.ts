import type { BehaviorEventValue } from '../../shared/contracts/behavior-event.js';
import type { Decision, OutputEvent } from '../../shared/kernel/types.js';
import type { WorkerDefinition } from '../../shared/runtime/worker-definition.js';
import { AvroInputDecoder, type AvroBodyDecoder } from '../../shared/registry/avro-input-decoder.js';
import { tierLogic } from './decide.js';
import { sequenced } from './events.js';
import type { LedgerEntryValue } from '../../shared/contracts/ledger-entry.js';

export type { LedgerEntryValue };
import type { TierState } from './state.js';

/**
 * Wiring: tier-evaluation reads only points.ledger, one ordered log per member.
 * A ledger entry from a subscription carries the plan and period end; it is
 * given to the rules first as the subscription (for plan floors), then as the
 * ledger entry it is. Both decisions' tier changes are numbered together
 * (events.ts `sequenced`), as they come from one record.
 */
function subscriptionOf(entry: LedgerEntryValue): BehaviorEventValue | null {
  if (entry.plan == null || entry.periodEnd == null) return null;
  return {
    eventId: `sub:${entry.eventId}`,
    sourceEventId: entry.sourceEventId,
    userId: entry.userId,
    type: 'subscription',
    occurredAt: entry.occurredAt,
    source: null,
    referrerId: null,
    amountFen: null,
    itemId: null,
    category: null,
    plan: entry.plan,
    periodEnd: entry.periodEnd,
    refundOf: null,
    seconds: null,
    points: null,
    rewardId: null,
    redeemOf: null,
    referredUserId: null,
    stage: 'unknown',
    tags: [],
    purchaseCount: 0,
    totalSpendFen: 0,
    activeDays: 0,
    rulesVersion: entry.rulesVersion,
  };
}

export const tierEvaluationWorker: WorkerDefinition<TierState, LedgerEntryValue> = {
  name: tierLogic.name,
  initialState: (memberId) => tierLogic.initialState(memberId),
  nextDue: (state) => tierLogic.nextDue!(state),
  onTick(state, memberId, tick) {
    const d = tierLogic.onTick!(state, memberId, tick);
    return d.kind === 'applied' ? { ...d, outputs: sequenced(d.outputs, tick.offset) } : d;
  },
  inputs: ['points.ledger'],
  outputs: ['member.tier-changes', 'member.tiers', 'activity.dlq'],
  decide(state, entry, ctx): Decision<TierState> {
    const outputs: OutputEvent[] = [];
    let current = state;
    const subscription = subscriptionOf(entry);
    if (subscription) {
      const floor = tierLogic.decide(current, { source: 'behavior', event: subscription }, ctx);
      if (floor.kind === 'rejected') return floor;
      current = floor.state;
      outputs.push(...floor.outputs);
    }
    const d = tierLogic.decide(current, { source: 'ledger', entry }, ctx);
    if (d.kind === 'rejected') return d;
    return { kind: 'applied', state: d.state, outputs: sequenced([...outputs, ...d.outputs], ctx.record.offset) };
  },
};

export function tierEvaluationDecoder(registry: AvroBodyDecoder): AvroInputDecoder<LedgerEntryValue> {
  return new AvroInputDecoder<LedgerEntryValue>(registry);
}
