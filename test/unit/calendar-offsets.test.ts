import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { localParts, startOfLocalDay } from '../../shared/util/calendar.js';
import { localDay } from '../../shared/util/time.js';

/** The straightforward Intl reading the cached offsets must reproduce exactly. */
function intlParts(epochMs: number, timeZone: string) {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  }).formatToParts(new Date(epochMs));
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value);
  return {
    year: get('year'),
    month: get('month'),
    day: get('day'),
    hour: get('hour'),
    minute: get('minute'),
    second: get('second'),
  };
}

function intlDay(epochMs: number, timeZone: string): number {
  const p = intlParts(epochMs, timeZone);
  return Math.floor(Date.UTC(p.year, p.month - 1, p.day) / 86_400_000);
}

// DST in both hemispheres, half-hour and 45-minute offsets, a 30-minute DST shift, and a zone
// whose 1972 change happened at an instant off the quarter-hour grid.
const zones = [
  'Asia/Shanghai',
  'Europe/London',
  'America/New_York',
  'Australia/Sydney',
  'Australia/Lord_Howe',
  'Asia/Kathmandu',
  'America/St_Johns',
  'Africa/Monrovia',
  'UTC',
];

describe('calendar fields from cached zone offsets', () => {
  it('equal Intl for any instant from 1970 to 2100', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4_102_444_800_000 }), fc.constantFrom(...zones), (t, zone) => {
        expect(localParts(t, zone)).toEqual(intlParts(t, zone));
        expect(localDay(t, zone)).toBe(intlDay(t, zone));
      }),
      { numRuns: 3000 },
    );
  });

  it('equal Intl second by second around offset changes', () => {
    const around = [
      ['Europe/London', Date.UTC(2026, 2, 29, 1, 0, 0)],
      ['Europe/London', Date.UTC(2026, 9, 25, 1, 0, 0)],
      ['America/New_York', Date.UTC(2026, 2, 8, 7, 0, 0)],
      ['Australia/Lord_Howe', Date.UTC(2026, 3, 4, 15, 0, 0)],
      ['Africa/Monrovia', Date.UTC(1972, 0, 7, 0, 44, 30)],
    ] as const;
    for (const [zone, at] of around) {
      for (let t = at - 20 * 60_000; t <= at + 20 * 60_000; t += 997) {
        expect(localParts(t, zone)).toEqual(intlParts(t, zone));
      }
    }
  });

  it('starts local days where Intl says the day changes', () => {
    for (const zone of zones) {
      for (const day of [0, 20_000, 20_540, 20_752, 20_753, 29_000]) {
        const start = startOfLocalDay(day, zone);
        expect(intlDay(start, zone)).toBe(day);
        expect(intlDay(start - 1, zone)).toBe(day - 1);
      }
    }
  });
});
