import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActivityEvent } from '../../shared/contracts/activity-event.js';
import { parseIsoDay } from '../../shared/clv/transactions.js';
import {
  cdnowActivityEvents,
  cdnowTransactions,
  parseCents,
  type CdnowEventOptions,
} from '../../shared/ingest/cdnow.js';
import { localDay } from '../../shared/util/time.js';

const sampleFile = fileURLToPath(new URL('../../data/cdnow/CDNOW_sample.txt.gz', import.meta.url));
const sampleText = gunzipSync(readFileSync(sampleFile)).toString('utf8');
const shanghai = 'Asia/Shanghai';

async function collect(path: string, o: CdnowEventOptions): Promise<ActivityEvent[]> {
  const out: ActivityEvent[] = [];
  for await (const e of cdnowActivityEvents(path, o)) out.push(e);
  return out;
}

const shanghaiHour = new Intl.DateTimeFormat('en-US', { timeZone: shanghai, hourCycle: 'h23', hour: 'numeric' });

describe('parseCents', () => {
  it('reads decimal dollars as integer cents without floating point', () => {
    expect(['29.33', '0.00', '12', '1.5', '1097.99', '0.07'].map(parseCents)).toEqual([2933, 0, 1200, 150, 109799, 7]);
    expect(['1.234', '-1.00', '', 'abc', '1e3', '.5'].map(parseCents)).toEqual([null, null, null, null, null, null]);
  });
});

describe('cdnowTransactions', () => {
  it('reads the sample layout (CRLF, no header) with the sample id as an integer', () => {
    const text =
      ' 00004 0001 19970101  2   29.33\r\n 00004 0001 19970118  2   29.73\r\n 00021 0002 19970101  3   63.34\r\n';
    expect(cdnowTransactions(text)).toEqual([
      { memberId: '1', day: parseIsoDay('1997-01-01'), amountCents: 2933 },
      { memberId: '1', day: parseIsoDay('1997-01-18'), amountCents: 2973 },
      { memberId: '2', day: parseIsoDay('1997-01-01'), amountCents: 6334 },
    ]);
  });

  it('reads the master layout with its header, keyed by the master id', () => {
    const text =
      ' customer_id  date number_of_cds  dollar_value\r\n 00001 19970101  1   11.77\r\n 23570 19980630  2   36.00\r\n';
    expect(cdnowTransactions(text)).toEqual([
      { memberId: '1', day: parseIsoDay('1997-01-01'), amountCents: 1177 },
      { memberId: '23570', day: parseIsoDay('1998-06-30'), amountCents: 3600 },
    ]);
  });

  it('names the line of a bad row', () => {
    const good = ' 00004 0001 19970101  2   29.33\n';
    expect(() => cdnowTransactions(`${good} 00004 0001 19970230  2   29.33\n`)).toThrow(/line 2: bad date "19970230"/);
    expect(() => cdnowTransactions(`${good} 00004 0001 19970102  2   29.333\n`)).toThrow(/line 2: bad dollar value/);
    expect(() => cdnowTransactions(`${good} 00004 0001 19970102  x   29.33\n`)).toThrow(/line 2: bad number of CDs/);
    expect(() => cdnowTransactions(`${good} 00004 19970102  2   29.33\n`)).toThrow(
      /line 2: a master row in a sample file/,
    );
    expect(() => cdnowTransactions(`${good} 00004 0001 19970102\n`)).toThrow(
      /line 2: expected 5 \(sample\) or 4 \(master\) columns, got 3/,
    );
    expect(() => cdnowTransactions(`${good} 00004 0001 19970102 2 1.00 9\n`)).toThrow(
      /line 2: expected 5 \(sample\) or 4 \(master\) columns, got 6/,
    );
    expect(() => cdnowTransactions(`${good}header 0001 19970102 2 1.00\n`)).toThrow(/line 2: bad customer id/);
  });

  it('finds the README figures in data/cdnow/CDNOW_sample.txt.gz', () => {
    const all = cdnowTransactions(sampleText);
    expect(all).toHaveLength(6919);
    expect(new Set(all.map((t) => t.memberId)).size).toBe(2357);
    expect(all.reduce((a, t) => a + t.amountCents, 0)).toBe(24_409_194);
    expect(Math.min(...all.map((t) => t.day))).toBe(parseIsoDay('1997-01-01'));
    expect(Math.max(...all.map((t) => t.day))).toBe(parseIsoDay('1998-06-30'));
    expect(all.length - new Set(all.map((t) => `${t.memberId}:${t.day}`)).size).toBe(223);
    expect(all.filter((t) => t.amountCents === 0).map((t) => t.memberId)).toEqual([
      '87',
      '155',
      '227',
      '286',
      '1080',
      '1195',
      '1293',
      '2086',
    ]);
  });
});

describe('cdnowActivityEvents', () => {
  let events: ActivityEvent[];
  beforeAll(async () => {
    events = await collect(sampleFile, { timeZone: shanghai });
  });

  it('maps the first row field by field', () => {
    expect(events[0]).toEqual({
      eventId: 'cdnow:1:0',
      userId: 'cdnow-1',
      type: 'purchase',
      occurredAt: Date.UTC(1997, 0, 1, 4, 0), // 12:00 in Shanghai (UTC+8)
      source: 'cdnow',
      referrerId: null,
      amountFen: 2933,
      itemId: 'cdnow-cds-2',
      category: 'music',
      plan: null,
      periodEnd: null,
      refundOf: null,
      seconds: null,
      points: null,
      rewardId: null,
      redeemOf: null,
    } satisfies ActivityEvent);
  });

  it('emits one purchase per row, numbered per member, at local noon on the CDNOW date', () => {
    const rows = cdnowTransactions(sampleText);
    expect(events).toHaveLength(rows.length);
    expect(new Set(events.map((e) => e.eventId)).size).toBe(events.length);
    expect(events.filter((e) => e.userId === 'cdnow-1').map((e) => e.eventId)).toEqual([
      'cdnow:1:0',
      'cdnow:1:1',
      'cdnow:1:2',
      'cdnow:1:3',
    ]);
    const wrong = events.filter((e, i) => {
      const row = rows[i]!;
      return (
        e.type !== 'purchase' ||
        e.userId !== `cdnow-${row.memberId}` ||
        e.amountFen !== row.amountCents ||
        localDay(e.occurredAt, shanghai) !== row.day ||
        Number(shanghaiHour.format(new Date(e.occurredAt))) !== 12
      );
    });
    expect(wrong).toEqual([]);
  });

  it('keeps the 8 zero-dollar rows as purchases of 0 fen', () => {
    const free = events.filter((e) => e.amountFen === 0);
    expect(free.map((e) => e.eventId)).toEqual([
      'cdnow:87:0',
      'cdnow:155:0',
      'cdnow:227:0',
      'cdnow:286:0',
      'cdnow:1080:0',
      'cdnow:1195:0',
      'cdnow:1293:0',
      'cdnow:2086:0',
    ]);
    expect(free.every((e) => e.type === 'purchase')).toBe(true);
  });

  it('windows by date without changing event ids', async () => {
    const holdout = await collect(sampleFile, { timeZone: shanghai, fromDate: '1997-10-01', toDate: '1998-06-30' });
    expect(holdout).toHaveLength(1959);
    const byId = new Map(events.map((e) => [e.eventId, e]));
    expect(holdout.filter((e) => byId.get(e.eventId)?.occurredAt !== e.occurredAt)).toEqual([]);
    expect(holdout.find((e) => e.userId === 'cdnow-1')?.eventId).toBe('cdnow:1:3'); // customer 1's 4th row, 1997-12-12
    const march = await collect(sampleFile, { timeZone: shanghai, fromDate: '1997-03', toDate: '1997-03' });
    expect(march.length).toBeGreaterThan(0);
    expect(march.every((e) => new Date(e.occurredAt).toISOString().startsWith('1997-03'))).toBe(true);
    expect(march).toEqual(events.filter((e) => new Date(e.occurredAt).toISOString().startsWith('1997-03')));
  });

  it('refuses a malformed window bound', async () => {
    await expect(collect(sampleFile, { timeZone: shanghai, toDate: '1997/10/01' })).rejects.toThrow(/toDate must be/);
  });

  describe('plain .txt and other zones', () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'memberflow-cdnow-'));
    });
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('puts events at noon across a DST change (New York, 1997-04-06)', async () => {
      const file = join(dir, 'sample.txt');
      await writeFile(
        file,
        ' 00004 0001 19970405  1   10.00\r\n 00004 0001 19970406  1    0.00\r\n 00005 0002 19970406  3   20.50\r\n',
      );
      const got = await collect(file, { timeZone: 'America/New_York' });
      expect(got.map((e) => [e.eventId, e.occurredAt, e.amountFen, e.itemId])).toEqual([
        ['cdnow:1:0', Date.UTC(1997, 3, 5, 17), 1000, 'cdnow-cds-1'], // EST, UTC−5
        ['cdnow:1:1', Date.UTC(1997, 3, 6, 16), 0, 'cdnow-cds-1'], // EDT, UTC−4
        ['cdnow:2:0', Date.UTC(1997, 3, 6, 16), 2050, 'cdnow-cds-3'],
      ]);
    });

    it('names the line of a bad row in a file', async () => {
      const file = join(dir, 'bad.txt');
      await writeFile(file, ' 00004 0001 19970405  1   10.00\n 00004 0001 19971305  1   10.00\n');
      await expect(collect(file, { timeZone: shanghai })).rejects.toThrow(/CDNOW line 2: bad date/);
    });
  });
});
