import type { BehaviorEventValue } from '../../shared/contracts/behavior-event.js';
import type { LedgerEntryKind, LedgerEntryValue } from '../../shared/contracts/ledger-entry.js';

/** The ledger contract is shared with points-accrual (shared/contracts/ledger-entry.ts). */
export type LedgerKind = LedgerEntryKind;
export type { LedgerEntryValue };

/** The two inputs of the worker: the points ledger, and behavior events (for subscriptions). */
export type TierInput =
  { source: 'ledger'; entry: LedgerEntryValue } | { source: 'behavior'; event: BehaviorEventValue };

/** Credits: points a rule awarded, available at once (earn, bonus) or held pending. `available` only moves pending points. */
export const creditKinds: readonly LedgerKind[] = ['earn', 'bonus', 'pending'];
/** Reversals: what a refund took back from the balance (reverse) or put in debt (debt). */
export const reversalKinds: readonly LedgerKind[] = ['reverse', 'debt'];

/**
 * The change an entry makes to qualifying points: +amount for credits,
 * −amount for reversals (points-accrual writes them with negative `points`
 * and positive `amount`), 0 otherwise: spend, expire, restore, available and
 * refuse do not move qualifying points.
 */
export function qualifyingDelta(e: LedgerEntryValue): number {
  const size = Math.abs(e.amount);
  if (creditKinds.includes(e.kind)) return size;
  if (reversalKinds.includes(e.kind)) return -size;
  return 0;
}

/** Member, event time and id of an input. */
export function inputMeta(i: TierInput): { memberId: string; at: number; sourceEventId: string } {
  return i.source === 'ledger'
    ? { memberId: i.entry.userId, at: i.entry.occurredAt, sourceEventId: i.entry.eventId }
    : { memberId: i.event.userId, at: i.event.occurredAt, sourceEventId: i.event.eventId };
}
