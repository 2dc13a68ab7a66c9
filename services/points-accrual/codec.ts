/**
 * Storage encoding of PointsState: positional JSON arrays instead of objects, with the
 * instants that are local-day starts stored in a coarser unit and as deltas. JSON
 * escaping keeps every id exact whatever characters it holds.
 *
 *   [unit, clock, debt, lots, pending, credits, redemptions, usage, qualifying(, referredBy, activeSince)]
 *
 * - unit: the largest of 1 h, 1 min, 1 s, 1 ms dividing every day-start instant (lot and
 *   pending instants, credits' availableAt/expiresAt, redemption draws). Day starts are
 *   whole hours in most zones, so a daily lot costs "24" instead of a 13-digit epoch.
 * - lots, pending, qualifying: flat [Δt, points, Δt, points, …], Δ from the previous
 *   entry (the first from 0).
 * - credits: [id, amountFen, earned, ΔexpiresAt, refundedFen, reversed, pending, availableAt]
 *   (Δ from the previous credit), trailing 0, 0, 0, null dropped: most credits were never
 *   refunded and are no longer pending.
 * - redemptions: [id, Δat (ms, from the previous redemption), cancelled 0|1, Δt, points, …],
 *   the draws' instants as deltas within the redemption.
 * - usage: [key, [periodKey, awards, …]] sorted by key, so equal states encode equally.
 * - referredBy, activeSince (referrals.ts): two more entries, null when absent, only when either
 *   is present (states written before them have nine).
 *
 * Deltas are exact only between safe integers: a state with an instant or day that is not
 * an integer within ±2^52 is stored as plain JSON instead (an object, so `decode` tells
 * the two apart by the first character). Numbers must be finite, as for JSON.
 */
import { jsonSizeBound } from '../../shared/kernel/json-size-bound.js';
import type { StateCodec } from '../../shared/kernel/types.js';
import type { Credit, Lot, PendingLot, PointsState, Redemption } from './state.js';

type Flat = number[];
type CreditRow = [
  id: string,
  amountFen: number,
  earned: number,
  expiresAt: number,
  refundedFen?: number,
  reversed?: number,
  pending?: number,
  availableAt?: number | null,
];
type RedemptionRow = [id: string, at: number, cancelled: number, ...draws: number[]];
type UsageRow = [key: string, counts: Flat];
type Packed = [
  unit: number,
  clock: number | null,
  debt: number,
  lots: Flat,
  pending: Flat,
  credits: CreditRow[],
  redemptions: RedemptionRow[],
  usage: UsageRow[],
  qualifying: Flat,
  referredBy?: string | null,
  activeSince?: number | null,
];

const units = [3_600_000, 60_000, 1_000, 1];
const deltaSafe = (x: number) => Number.isSafeInteger(x) && Math.abs(x) <= 2 ** 52;

function dayStarts(s: PointsState): number[] {
  return [
    ...s.lots.map((l) => l.expiresAt),
    ...s.pending.map((p) => p.availableAt),
    ...s.credits.flatMap((c) => (c.availableAt === null ? [c.expiresAt] : [c.expiresAt, c.availableAt])),
    ...s.redemptions.flatMap((r) => r.draws.map(([t]) => t)),
  ];
}

/** Whether every value that is delta-encoded is a safe integer (then every delta and sum is exact). */
function compactable(s: PointsState, starts: readonly number[]): boolean {
  return (
    starts.every(deltaSafe) &&
    s.redemptions.every((r) => deltaSafe(r.at)) &&
    s.qualifying.every(([day]) => deltaSafe(day))
  );
}

/** Successive differences, the first from 0. */
function deltas(xs: readonly number[]): number[] {
  let prev = 0;
  return xs.map((x) => {
    const d = x - prev;
    prev = x;
    return d;
  });
}

/** Inverse of `deltas`: running sums. */
function sums(ds: readonly number[]): number[] {
  let acc = 0;
  return ds.map((d) => (acc += d));
}

/** [t, v] pairs → flat [Δt/unit, v, …]. */
function packPairs(pairs: ReadonlyArray<readonly [number, number]>, unit: number): Flat {
  const ts = deltas(pairs.map(([t]) => t / unit));
  return pairs.flatMap(([, v], i) => [ts[i]!, v]);
}

/** Flat [a, b, a, b, …] → [a, b] pairs. */
function regroup(flat: Flat): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < flat.length; i += 2) out.push([flat[i]!, flat[i + 1]!]);
  return out;
}

function unpackPairs(flat: Flat, unit: number): [number, number][] {
  const pairs = regroup(flat);
  const ts = sums(pairs.map(([d]) => d));
  return pairs.map(([, v], i) => [ts[i]! * unit, v]);
}

/** Values of the optional credit fields that are dropped from the end of a row (index 4 on). */
const creditDefaults: ReadonlyArray<number | null> = [0, 0, 0, null];

function packCredits(credits: readonly Credit[], unit: number): CreditRow[] {
  const exp = deltas(credits.map((c) => c.expiresAt / unit));
  return credits.map((c, i) => {
    const row: CreditRow = [
      c.id,
      c.amountFen,
      c.earned,
      exp[i]!,
      c.refundedFen,
      c.reversed,
      c.pending,
      c.availableAt === null ? null : c.availableAt / unit,
    ];
    while (row.length > 4 && row[row.length - 1] === creditDefaults[row.length - 5]) row.pop();
    return row;
  });
}

function unpackCredits(rows: readonly CreditRow[], unit: number): Credit[] {
  const exp = sums(rows.map((r) => r[3]));
  return rows.map(([id, amountFen, earned, , refundedFen = 0, reversed = 0, pending = 0, availableAt = null], i) => ({
    id,
    amountFen,
    refundedFen,
    earned,
    reversed,
    pending,
    availableAt: availableAt === null ? null : availableAt * unit,
    expiresAt: exp[i]! * unit,
  }));
}

function packRedemptions(rs: readonly Redemption[], unit: number): RedemptionRow[] {
  const at = deltas(rs.map((r) => r.at));
  return rs.map((r, i) => [r.id, at[i]!, r.cancelled ? 1 : 0, ...packPairs(r.draws, unit)]);
}

function unpackRedemptions(rows: readonly RedemptionRow[], unit: number): Redemption[] {
  const at = sums(rows.map((r) => r[1]));
  return rows.map(([id, , cancelled, ...draws], i) => ({
    id,
    at: at[i]!,
    draws: unpackPairs(draws, unit),
    cancelled: cancelled === 1,
  }));
}

const compareKeys = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export function encodePointsState(s: PointsState): string {
  const starts = dayStarts(s);
  if (!compactable(s, starts)) return JSON.stringify(s);
  const unit = units.find((u) => starts.every((t) => t % u === 0))!;
  const packed: Packed = [
    unit,
    s.clock,
    s.debt,
    packPairs(
      s.lots.map((l) => [l.expiresAt, l.points]),
      unit,
    ),
    packPairs(
      s.pending.map((p) => [p.availableAt, p.points]),
      unit,
    ),
    packCredits(s.credits, unit),
    packRedemptions(s.redemptions, unit),
    Object.keys(s.usage)
      .sort(compareKeys)
      .map((k): UsageRow => [k, s.usage[k]!.flat()]),
    packPairs(s.qualifying, 1),
  ];
  if (s.referredBy !== undefined || s.activeSince !== undefined)
    packed.push(s.referredBy ?? null, s.activeSince ?? null);
  return JSON.stringify(packed);
}

export function decodePointsState(text: string): PointsState {
  if (text.startsWith('{')) return JSON.parse(text) as PointsState;
  const packed: unknown = JSON.parse(text);
  if (!Array.isArray(packed) || (packed.length !== 9 && packed.length !== 11))
    throw new Error('points-accrual state: not in the expected encoding');
  const [
    unit,
    clock,
    debt,
    lots,
    pending,
    credits,
    redemptions,
    usage,
    qualifying,
    referredBy = null,
    activeSince = null,
  ] = packed as Packed;
  const state: PointsState = {
    clock,
    lots: unpackPairs(lots, unit).map(([expiresAt, points]): Lot => ({ expiresAt, points })),
    pending: unpackPairs(pending, unit).map(([availableAt, points]): PendingLot => ({ availableAt, points })),
    debt,
    credits: unpackCredits(credits, unit),
    redemptions: unpackRedemptions(redemptions, unit),
    usage: Object.fromEntries(usage.map(([k, flat]) => [k, regroup(flat)])),
    qualifying: unpackPairs(qualifying, 1),
  };
  if (referredBy !== null) state.referredBy = referredBy;
  if (activeSince !== null) state.activeSince = activeSince;
  return state;
}

/**
 * The packed form holds no value the state does not (plus the unit) and drops the state's
 * keys and most brackets, so the state's own JSON bound and a little slack bound it.
 */
export const pointsStateSizeBound = (s: PointsState, stopAbove: number): number => jsonSizeBound(s, stopAbove) + 32;

export const pointsStateCodec: StateCodec<PointsState> = {
  encode: encodePointsState,
  decode: decodePointsState,
  sizeBound: pointsStateSizeBound,
};
