import { dayMs, localDay } from './time.js';

/**
 * Calendar arithmetic in a time zone, from instants only (never the process
 * zone): Intl with an explicit timeZone gives the same answer whatever TZ is.
 */
export { localDay };

const partFormatters = new Map<string, Intl.DateTimeFormat>();
function partFormatter(timeZone: string): Intl.DateTimeFormat {
  let f = partFormatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
    partFormatters.set(timeZone, f);
  }
  return f;
}

export interface LocalParts { year: number; month: number; day: number; hour: number; minute: number; second: number }

/** Wall-clock fields of an instant in a zone (month 1-12). */
export function localParts(epochMs: number, timeZone: string): LocalParts {
  const parts = partFormatter(timeZone).formatToParts(new Date(epochMs));
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value);
  return { year: get('year'), month: get('month'), day: get('day'), hour: get('hour'), minute: get('minute'), second: get('second') };
}

/** Zone offset at an instant, ms (wall clock read as UTC minus the instant). */
function offsetAt(epochMs: number, timeZone: string): number {
  const p = localParts(epochMs, timeZone);
  const wall = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return wall - (epochMs - (((epochMs % 1000) + 1000) % 1000));
}

/** The instant a local day (days since 1970-01-01 in the zone) starts. Two passes settle DST offsets. */
export function startOfLocalDay(day: number, timeZone: string): number {
  const wallMidnight = day * dayMs;
  const first = wallMidnight - offsetAt(wallMidnight, timeZone);
  return wallMidnight - offsetAt(first, timeZone);
}

/** The start of the local day `days` after the one containing `epochMs`. */
export function startOfDayAfter(epochMs: number, days: number, timeZone: string): number {
  return startOfLocalDay(localDay(epochMs, timeZone) + days, timeZone);
}

/** Monday-based week number: ISO weeks start on Monday, and local day 0 (1970-01-01) was a Thursday. */
export function weekIndex(day: number): number {
  return Math.floor((day + 3) / 7);
}

/** Months since 1970-01 in the zone. */
export function monthIndex(epochMs: number, timeZone: string): number {
  const p = localParts(epochMs, timeZone);
  return (p.year - 1970) * 12 + (p.month - 1);
}

export type Period = 'day' | 'week' | 'month' | 'forever';

/** The calendar period an instant falls in, as a number comparable within one period kind. */
export function periodKey(period: Period, epochMs: number, timeZone: string): number {
  switch (period) {
    case 'day':
      return localDay(epochMs, timeZone);
    case 'week':
      return weekIndex(localDay(epochMs, timeZone));
    case 'month':
      return monthIndex(epochMs, timeZone);
    case 'forever':
      return 0;
  }
}
