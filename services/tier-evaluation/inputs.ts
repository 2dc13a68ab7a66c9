import type { BehaviorEventValue } from '../../shared/contracts/behavior-event.js';

/** Kinds of a points.ledger entry (schemas/points.ledger.avsc, enum PointsEntryKind). */
export type LedgerKind = 'earn' | 'bonus' | 'pending' | 'available' | 'spend' | 'refuse' | 'expire' | 'reverse' | 'restore' | 'debt';

/** A points.ledger value as decoded from Avro (schemas/points.ledger.avsc, record PointsMovement). */
export interface LedgerEntryValue {
  eventId: string;
  userId: string;
  kind: LedgerKind;
  /** Signed change of available + pending − debt. */
  points: number;
  /** Unsigned quantity the entry is about. */
  amount: number;
  lots: { bucket: 'available' | 'pending'; dueAt: number; points: number }[];
  availableAfter: number;
  pendingAfter: number;
  debtAfter: number;
  /** Per local day, not used here (see README.md). */
  qualifyingPoints: number;
  rulesVersion: string;
  sourceEventId: string;
  relatedEventId: string | null;
  occurredAt: number;
  reason: string;
}

/** The two inputs of the worker: the points ledger, and behavior events (for subscriptions). */
export type TierInput = { source: 'ledger'; entry: LedgerEntryValue } | { source: 'behavior'; event: BehaviorEventValue };

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
