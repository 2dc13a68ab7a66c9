const isoWithOffset = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;

/**
 * Event time from an input field: epoch milliseconds (integer) or ISO-8601
 * with an explicit offset. A time without an offset is ambiguous and refused.
 */
export function parseEventTime(value: unknown): number | null {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 && value <= maxEventTime ? value : null;
  if (typeof value === 'string' && isoWithOffset.test(value) && calendarFieldsValid(value)) {
    const ms = Date.parse(value);
    return Number.isFinite(ms) && ms >= 0 && ms <= maxEventTime ? ms : null;
  }
  return null;
}

/** 9999-12-31T23:59:59.999Z: beyond it dates cannot be formatted or compared safely. */
export const maxEventTime = 253_402_300_799_999;

/** Date.parse quietly rolls 2024-02-30 over to March and accepts T24:00; refuse both. */
function calendarFieldsValid(iso: string): boolean {
  const [y, m, d, hh, mm, ss] = [iso.slice(0, 4), iso.slice(5, 7), iso.slice(8, 10), iso.slice(11, 13), iso.slice(14, 16), iso.slice(17, 19)].map(Number) as number[];
  const daysInMonth = new Date(Date.UTC(y!, m!, 0)).getUTCDate();
  return m! >= 1 && m! <= 12 && d! >= 1 && d! <= daysInMonth && hh! <= 23 && mm! <= 59 && (Number.isNaN(ss) || ss! <= 59);
}

export const dayMs = 24 * 3600 * 1000;

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    formatters.set(timeZone, f);
  }
  return f;
}

/** The calendar day of an instant in a time zone, as days since 1970-01-01 of that zone. */
export function localDay(epochMs: number, timeZone: string): number {
  const parts = formatter(timeZone).formatToParts(new Date(epochMs));
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value);
  return Math.floor(Date.UTC(get('year'), get('month') - 1, get('day')) / dayMs);
}
