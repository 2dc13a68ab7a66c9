const isoWithOffset = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;

/**
 * Event time from an input field: epoch milliseconds (integer) or ISO-8601
 * with an explicit offset. A time without an offset is ambiguous and refused.
 */
export function parseEventTime(value: unknown): number | null {
  if (typeof value === 'number')
    return Number.isSafeInteger(value) && value >= 0 && value <= maxEventTime ? value : null;
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
  const [y, m, d, hh, mm, ss] = [
    iso.slice(0, 4),
    iso.slice(5, 7),
    iso.slice(8, 10),
    iso.slice(11, 13),
    iso.slice(14, 16),
    iso.slice(17, 19),
  ].map(Number);
  const daysInMonth = new Date(Date.UTC(y!, m, 0)).getUTCDate();
  return (
    m! >= 1 && m! <= 12 && d! >= 1 && d! <= daysInMonth && hh! <= 23 && mm! <= 59 && (Number.isNaN(ss) || ss! <= 59)
  );
}

export const dayMs = 24 * 3600 * 1000;

const offsetFormatters = new Map<string, Intl.DateTimeFormat>();
function offsetFormatter(timeZone: string): Intl.DateTimeFormat {
  let f = offsetFormatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    offsetFormatters.set(timeZone, f);
  }
  return f;
}

/** Zone offset at an instant from Intl (wall clock read as UTC minus the instant, whole seconds). */
function exactOffset(epochMs: number, timeZone: string): number {
  const parts = offsetFormatter(timeZone).formatToParts(new Date(epochMs));
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value);
  const wall = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return wall - (epochMs - (((epochMs % 1000) + 1000) % 1000));
}

/**
 * Zone offsets by quarter hour: Intl is slow (it dominated the points worker's profile), and a
 * zone's offset only changes at its transitions. A quarter hour whose first and last
 * millisecond have the same offset has it throughout (zones never change twice in 15 minutes);
 * one with a transition inside is asked of Intl for every instant.
 */
const quarterMs = 15 * 60 * 1000;
const offsetCache = new Map<string, Map<number, number>>();
const maxCachedQuarters = 200_000;

export function zoneOffset(epochMs: number, timeZone: string): number {
  const quarter = Math.floor(epochMs / quarterMs);
  let cache = offsetCache.get(timeZone);
  if (!cache) offsetCache.set(timeZone, (cache = new Map<number, number>()));
  let offset = cache.get(quarter);
  if (offset === undefined) {
    const start = quarter * quarterMs;
    const first = exactOffset(start, timeZone);
    offset = first === exactOffset(start + quarterMs - 1, timeZone) ? first : Number.NaN;
    if (cache.size >= maxCachedQuarters) cache.clear();
    cache.set(quarter, offset);
  }
  return Number.isNaN(offset) ? exactOffset(epochMs, timeZone) : offset;
}

/** The calendar day of an instant in a time zone, as days since 1970-01-01 of that zone. */
export function localDay(epochMs: number, timeZone: string): number {
  return Math.floor((epochMs + zoneOffset(epochMs, timeZone)) / dayMs);
}
