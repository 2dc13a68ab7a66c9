import { dayMs, localDay, zoneOffset } from './time.js';

/**
 * Calendar arithmetic in a time zone, from instants only (never the process
 * zone): Intl with an explicit timeZone gives the same answer whatever TZ is.
 */
export { localDay };

export interface LocalParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

/** Wall-clock fields of an instant in a zone (month 1-12): the instant moved by the zone's offset, read as UTC. */
export function localParts(epochMs: number, timeZone: string): LocalParts {
  const wall = new Date(epochMs + zoneOffset(epochMs, timeZone));
  return {
    year: wall.getUTCFullYear(),
    month: wall.getUTCMonth() + 1,
    day: wall.getUTCDate(),
    hour: wall.getUTCHours(),
    minute: wall.getUTCMinutes(),
    second: wall.getUTCSeconds(),
  };
}

/** The instant a local day (days since 1970-01-01 in the zone) starts. Two passes settle DST offsets. */
export function startOfLocalDay(day: number, timeZone: string): number {
  const wallMidnight = day * dayMs;
  const first = wallMidnight - zoneOffset(wallMidnight, timeZone);
  return wallMidnight - zoneOffset(first, timeZone);
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
