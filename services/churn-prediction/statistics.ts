/**
 * The sufficient statistics of the purchase-count model, kept per member and
 * updated one purchase at a time, exactly as the offline summary defines them
 * (shared/clv/summary.ts): purchases are counted by distinct calendar day in the
 * platform time zone; x = distinct days − 1; recency is last − first day; spend
 * per repeat day excludes the first day.
 */
export interface PurchaseStats {
  /** Distinct purchase days (days since 1970-01-01, local), ascending; days[0] is the first purchase day and is always kept. */
  days: number[];
  /** Distinct days that fell out of `days` because of the bound: counted, not kept. */
  foldedDays: number;
  firstDaySpendFen: number;
  /** Spend on every purchase day but the first (the Gamma-Gamma input). */
  repeatSpendFen: number;
}

export const noPurchases = (): PurchaseStats => ({ days: [], foldedDays: 0, firstDaySpendFen: 0, repeatSpendFen: 0 });

/** Index of `day` in the ascending array, or the insertion point as -(i + 1). */
function search(days: readonly number[], day: number): number {
  let lo = 0;
  let hi = days.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const v = days[mid]!;
    if (v === day) return mid;
    if (v < day) lo = mid + 1;
    else hi = mid - 1;
  }
  return -(lo + 1);
}

/**
 * One purchase (or paid subscription) on local day `day`. Late purchases are
 * placed where they belong: an earlier day becomes the new first day, and the
 * old first day's spend becomes repeat spend. Beyond `maxDays` kept days the
 * second-oldest is folded into a count (a late purchase older than every kept
 * day but the first then counts as a new day: the only approximation, and only
 * for members with more than `maxDays` purchase days).
 */
export function recordPurchase(s: PurchaseStats, day: number, amountFen: number, maxDays: number): PurchaseStats {
  const first = s.days[0];
  if (first === undefined) return { days: [day], foldedDays: 0, firstDaySpendFen: amountFen, repeatSpendFen: 0 };
  if (day < first) {
    return bound(
      {
        days: [day, ...s.days],
        foldedDays: s.foldedDays,
        firstDaySpendFen: amountFen,
        repeatSpendFen: s.repeatSpendFen + s.firstDaySpendFen,
      },
      maxDays,
    );
  }
  if (day === first) return { ...s, firstDaySpendFen: s.firstDaySpendFen + amountFen };
  const at = search(s.days, day);
  const repeatSpendFen = s.repeatSpendFen + amountFen;
  if (at >= 0) return { ...s, repeatSpendFen };
  const folded = s.foldedDays > 0 && day < (s.days[1] ?? Infinity);
  if (folded) return { ...s, foldedDays: s.foldedDays + 1, repeatSpendFen };
  const i = -at - 1;
  return bound({ ...s, days: [...s.days.slice(0, i), day, ...s.days.slice(i)], repeatSpendFen }, maxDays);
}

function bound(s: PurchaseStats, maxDays: number): PurchaseStats {
  if (s.days.length <= maxDays) return s;
  const drop = s.days.length - maxDays;
  return { ...s, days: [s.days[0]!, ...s.days.slice(1 + drop)], foldedDays: s.foldedDays + drop };
}

/** The model's inputs in days at local day `today`: x, t_x, T. Null before the first purchase. */
export interface DayRfm {
  x: number;
  recencyDays: number;
  ageDays: number;
}

export function rfmAt(s: PurchaseStats, today: number): DayRfm | null {
  const first = s.days[0];
  const last = s.days[s.days.length - 1];
  if (first === undefined || last === undefined) return null;
  return { x: s.days.length + s.foldedDays - 1, recencyDays: last - first, ageDays: Math.max(today, last) - first };
}

/** Mean spend per repeat purchase day, in fen (not rounded); 0 without repeat purchases. */
export function meanRepeatSpendFen(s: PurchaseStats): number {
  const x = s.days.length + s.foldedDays - 1;
  return x > 0 ? s.repeatSpendFen / x : 0;
}
