/** A `points.ledger` record (schemas/points.ledger.avsc): written by points-accrual, read by tier-evaluation. */
export const ledgerEntryKinds = [
  'earn',
  'bonus',
  'pending',
  'available',
  'spend',
  'refuse',
  'expire',
  'reverse',
  'restore',
  'debt',
] as const;
export type LedgerEntryKind = (typeof ledgerEntryKinds)[number];

/** Which lot an entry touched, and by how much. */
export interface LedgerLotTouch {
  bucket: 'available' | 'pending';
  dueAt: number;
  points: number;
}

export interface LedgerEntryValue {
  eventId: string;
  userId: string;
  kind: LedgerEntryKind;
  /** Signed change of available + pending − debt. */
  points: number;
  /** Unsigned quantity the entry is about (moved, requested, expired...). */
  amount: number;
  lots: LedgerLotTouch[];
  availableAfter: number;
  pendingAfter: number;
  debtAfter: number;
  /** Qualifying points per local day of the window (tier-evaluation keeps its own, to the millisecond). */
  qualifyingPoints: number;
  rulesVersion: string;
  sourceEventId: string;
  relatedEventId: string | null;
  occurredAt: number;
  reason: string;
  /** Set on entries of a decision about a `subscription`: the tier worker's plan floors come from here. */
  plan: string | null;
  periodEnd: number | null;
}
