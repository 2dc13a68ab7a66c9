import type { LedgerLotTouch } from '../../shared/contracts/ledger-entry.js';
import type { Lot, PendingLot } from './state.js';

/** One lot a ledger entry changed: which bucket, its due instant (expiry or availability) and the signed change. */
export type LotTouch = LedgerLotTouch;

/** Adds points to the lot expiring at `expiresAt`, merging with an existing one; stays sorted. */
export function addToLots(lots: readonly Lot[], expiresAt: number, points: number): Lot[] {
  if (points <= 0) return [...lots];
  const i = lots.findIndex((l) => l.expiresAt >= expiresAt);
  if (i >= 0 && lots[i]!.expiresAt === expiresAt)
    return lots.map((l, j) => (j === i ? { expiresAt, points: l.points + points } : l));
  const at = i < 0 ? lots.length : i;
  return [...lots.slice(0, at), { expiresAt, points }, ...lots.slice(at)];
}

export function addToPending(pending: readonly PendingLot[], availableAt: number, points: number): PendingLot[] {
  const asLots = addToLots(
    pending.map((p) => ({ expiresAt: p.availableAt, points: p.points })),
    availableAt,
    points,
  );
  return asLots.map((l) => ({ availableAt: l.expiresAt, points: l.points }));
}

export interface Taken<L> {
  lots: L[];
  touched: LotTouch[];
  taken: number;
}

/** Draws up to `points` from the lots that expire first; emptied lots are dropped. */
export function takeFifo(lots: readonly Lot[], points: number): Taken<Lot> {
  let left = points;
  const touched: LotTouch[] = [];
  const kept: Lot[] = [];
  for (const lot of lots) {
    const take = Math.min(left, lot.points);
    left -= take;
    if (take > 0) touched.push({ bucket: 'available', dueAt: lot.expiresAt, points: -take });
    if (lot.points > take) kept.push(take > 0 ? { expiresAt: lot.expiresAt, points: lot.points - take } : lot);
  }
  return { lots: kept, touched, taken: points - left };
}

/** Draws up to `points` from the one lot expiring at `expiresAt`, if it still exists. */
export function takeFromLot(lots: readonly Lot[], expiresAt: number, points: number): Taken<Lot> {
  const lot = lots.find((l) => l.expiresAt === expiresAt);
  const take = Math.min(points, lot?.points ?? 0);
  if (take <= 0) return { lots: [...lots], touched: [], taken: 0 };
  const kept = lots.flatMap((l) =>
    l.expiresAt !== expiresAt ? [l] : l.points > take ? [{ expiresAt, points: l.points - take }] : [],
  );
  return { lots: kept, touched: [{ bucket: 'available', dueAt: expiresAt, points: -take }], taken: take };
}

export function takeFromPending(
  pending: readonly PendingLot[],
  availableAt: number,
  points: number,
): Taken<PendingLot> {
  const r = takeFromLot(
    pending.map((p) => ({ expiresAt: p.availableAt, points: p.points })),
    availableAt,
    points,
  );
  return {
    lots: r.lots.map((l) => ({ availableAt: l.expiresAt, points: l.points })),
    touched: r.touched.map((t) => ({ ...t, bucket: 'pending' as const })),
    taken: r.taken,
  };
}
