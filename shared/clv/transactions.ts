/**
 * The input of the CLV summaries: one purchase by one member on one calendar day.
 * Sources (CDNOW text files, activity events) are mapped to this so the summary code
 * knows nothing about where the data came from.
 */
export interface Transaction {
  memberId: string;
  /** Calendar day as days since 1970-01-01 (of whatever zone the source's dates are in). */
  day: number;
  /** Integer minor units (cents, fen): sums and means stay exact. */
  amountCents: number;
}

const msPerDay = 86_400_000;

/** Year, month (1-12), day → days since 1970-01-01; null for dates like 1997-02-30. */
export function calendarDay(year: number, month: number, day: number): number | null {
  if (![year, month, day].every(Number.isSafeInteger) || month < 1 || month > 12 || day < 1) return null;
  const ms = Date.UTC(year, month - 1, day);
  const d = new Date(ms);
  // Date.UTC maps years 0-99 to 1900-1999; checking every field back refuses that too.
  if (d.getUTCFullYear() !== year || d.getUTCMonth() !== month - 1 || d.getUTCDate() !== day) return null;
  return ms / msPerDay;
}

/** `YYYY-MM-DD` → days since 1970-01-01; throws on anything else. */
export function parseIsoDay(text: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  const day = m ? calendarDay(Number(m[1]), Number(m[2]), Number(m[3])) : null;
  if (day === null) throw new Error(`expected a date YYYY-MM-DD, got ${JSON.stringify(text)}`);
  return day;
}

/** Days since 1970-01-01 → `YYYY-MM-DD`. */
export function isoDay(day: number): string {
  return new Date(day * msPerDay).toISOString().slice(0, 10);
}
