import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { churnSummarize } from '../../cli/commands/churn-summarize.js';
import {
  countPurchaseDays,
  formatCents,
  formatPythonHundredths,
  formatSummaryCsv,
  parseSummaryCsv,
  roundHalfUpDiv,
  summarize,
  type MemberSummary,
} from '../../shared/clv/summary.js';
import { isoDay, parseIsoDay, type Transaction } from '../../shared/clv/transactions.js';
import { cdnowTransactions } from '../../shared/ingest/cdnow.js';

const dataFile = (name: string) => fileURLToPath(new URL(`../../data/cdnow/${name}`, import.meta.url));
const gunzipText = (name: string) => gunzipSync(readFileSync(dataFile(name))).toString('utf8');

const sampleTransactions = cdnowTransactions(gunzipText('CDNOW_sample.txt.gz'));
const calibrationEnd = parseIsoDay('1997-09-30');
const summaries = summarize(sampleTransactions, calibrationEnd);

const day = (iso: string) => parseIsoDay(iso);
const t = (memberId: string, iso: string, amountCents: number): Transaction => ({
  memberId,
  day: day(iso),
  amountCents,
});

describe('summarize on the CDNOW sample (calibration end 1997-09-30)', () => {
  it('reproduces cdnow_customers_summary.csv byte for byte', () => {
    const expected = gunzipText('cdnow_customers_summary.csv.gz');
    expect(expected.split('\n')).toHaveLength(2359); // header + 2,357 rows + the final newline
    expect(formatSummaryCsv(summaries, { unit: 'weeks', monetary: false })).toBe(expected);
  });

  it('matches x, t_x, T and zbar of cdnow_customers_summary_with_transactions.csv for all 2,357 rows', () => {
    const expected = parseSummaryCsv(gunzipText('cdnow_customers_summary_with_transactions.csv.gz'));
    expect(expected).toHaveLength(2357);
    expect(summaries).toHaveLength(2357);
    const mismatches = expected.filter((row, i) => {
      const s = summaries[i]!;
      return (
        s.id !== row.id ||
        s.x !== row.x ||
        roundHalfUpDiv(s.txDays * 100, 7) !== Math.round(row.tx * 100) ||
        roundHalfUpDiv(s.TDays * 100, 7) !== Math.round(row.T * 100) ||
        s.zbarCents !== Math.round(row.monetary! * 100)
      );
    });
    expect(mismatches).toEqual([]);
  });

  it('has the README figures: 946 repeaters, Σx = 2,457, T from 27.00 to 38.86 weeks', () => {
    expect(summaries.filter((s) => s.x > 0)).toHaveLength(946);
    expect(summaries.reduce((a, s) => a + s.x, 0)).toBe(2457);
    expect(Math.min(...summaries.map((s) => s.TDays))).toBe(189); // 27.00 weeks
    expect(Math.max(...summaries.map((s) => s.TDays))).toBe(272); // 38.86 weeks
  });

  it('rounds zbar half up on the exact half-cent ties (half-even would miss 68 of 140)', () => {
    const ties = summaries.filter((s) => s.x > 0 && 2 * (s.repeatSpendCents % s.x) === s.x);
    expect(ties).toHaveLength(140);
    expect(ties.filter((s) => Math.floor(s.repeatSpendCents / s.x) % 2 === 0)).toHaveLength(68);
    // Customer 1: repeat days of $29.73 and $14.96 → 22.345 → 22.35, as in the file.
    expect(summaries[0]).toEqual({ id: '1', x: 2, txDays: 213, TDays: 272, repeatSpendCents: 4469, zbarCents: 2235 });
  });

  it('counts 1,882 distinct customer-days (1,959 rows) in the holdout 1997-10-01..1998-06-30', () => {
    const [from, to] = [day('1997-10-01'), day('1998-06-30')];
    const holdout = countPurchaseDays(sampleTransactions, from, to);
    expect([...holdout.values()].reduce((a, b) => a + b, 0)).toBe(1882);
    expect(sampleTransactions.filter((tr) => tr.day >= from && tr.day <= to)).toHaveLength(1959);
    expect(summaries.filter((s) => s.x === 0 && !holdout.has(s.id)).length).toBeGreaterThan(1000);
  });
});

describe('summarize', () => {
  it('counts distinct days, sums spend per day and excludes the first day from zbar', () => {
    const rows = summarize(
      [
        t('7', '2020-01-01', 1000),
        t('7', '2020-01-01', 500), // same day: one transaction of 1500
        t('7', '2020-01-08', 300),
        t('7', '2020-01-08', 200),
        t('7', '2020-01-15', 101),
      ],
      day('2020-01-29'),
    );
    expect(rows).toEqual([{ id: '7', x: 2, txDays: 14, TDays: 28, repeatSpendCents: 601, zbarCents: 301 }]);
  });

  it('ignores transactions after the end and leaves out members who start after it', () => {
    const rows = summarize(
      [t('a', '2020-01-01', 100), t('a', '2020-02-01', 900), t('b', '2020-02-01', 100)],
      day('2020-01-31'),
    );
    expect(rows).toEqual([{ id: 'a', x: 0, txDays: 0, TDays: 30, repeatSpendCents: 0, zbarCents: 0 }]);
  });

  it('orders integer ids numerically, others by string', () => {
    const ids = (ts: Transaction[]) => summarize(ts, day('2020-12-31')).map((s) => s.id);
    expect(
      ids([
        t('10', '2020-01-01', 1),
        t('9', '2020-01-01', 1),
        t('0002', '2020-01-01', 1),
        t('12345678901234567890', '2020-01-01', 1),
      ]),
    ).toEqual(['0002', '9', '10', '12345678901234567890']);
    expect(ids([t('10', '2020-01-01', 1), t('9', '2020-01-01', 1), t('b', '2020-01-01', 1)])).toEqual(['10', '9', 'b']);
  });

  it('refuses fractional or negative amounts and a fractional end day', () => {
    expect(() => summarize([t('a', '2020-01-01', 1.5)], day('2020-01-31'))).toThrow(/integers/);
    expect(() => summarize([t('a', '2020-01-01', -1)], day('2020-01-31'))).toThrow(/amount ≥ 0/);
    expect(() => summarize([], 1.5)).toThrow(/integer/);
  });
});

describe('rounding and number formats', () => {
  it('roundHalfUpDiv rounds ties up and everything else to nearest', () => {
    expect([roundHalfUpDiv(5, 2), roundHalfUpDiv(3, 2), roundHalfUpDiv(1, 2), roundHalfUpDiv(0, 4)]).toEqual([
      3, 2, 1, 0,
    ]);
    expect([roundHalfUpDiv(1, 3), roundHalfUpDiv(2, 3), roundHalfUpDiv(44690, 20), roundHalfUpDiv(4469, 2)]).toEqual([
      0, 1, 2235, 2235,
    ]);
    expect(roundHalfUpDiv(2 ** 51, 1)).toBe(2 ** 51);
    expect(roundHalfUpDiv(2 ** 50 + 1, 2)).toBe(2 ** 49 + 1);
    expect(() => roundHalfUpDiv(1, 0)).toThrow(RangeError);
    expect(() => roundHalfUpDiv(-1, 2)).toThrow(RangeError);
    expect(() => roundHalfUpDiv(Number.MAX_SAFE_INTEGER, 1)).toThrow(/overflow/);
  });

  it('writes hundredths as Python writes round(v, 2), and cents with two decimals', () => {
    expect([3043, 3040, 0, 3800, 5, 50, 100, 12].map(formatPythonHundredths)).toEqual([
      '30.43',
      '30.4',
      '0.0',
      '38.0',
      '0.05',
      '0.5',
      '1.0',
      '0.12',
    ]);
    expect([2235, 0, 5, 1200].map(formatCents)).toEqual(['22.35', '0.00', '0.05', '12.00']);
    expect(() => formatCents(-1)).toThrow(RangeError);
  });
});

describe('formatSummaryCsv', () => {
  const rows: MemberSummary[] = [
    { id: '0001', x: 2, txDays: 213, TDays: 272, repeatSpendCents: 4469, zbarCents: 2235 },
    { id: '0003', x: 0, txDays: 0, TDays: 266, repeatSpendCents: 0, zbarCents: 0 },
  ];

  it('writes weeks with monetary, and ids as integers', () => {
    expect(formatSummaryCsv(rows, { unit: 'weeks', monetary: true })).toBe(
      'ID,frequency,recency,T,monetary\n1,2,30.43,38.86,22.35\n3,0,0.0,38.0,0.00\n',
    );
  });

  it('writes days as integers', () => {
    expect(formatSummaryCsv(rows, { unit: 'days', monetary: false })).toBe(
      'ID,frequency,recency,T\n1,2,213,272\n3,0,0,266\n',
    );
  });

  it('refuses an id that would break the CSV', () => {
    expect(() => formatSummaryCsv([{ ...rows[0]!, id: 'a,b' }], { unit: 'days', monetary: false })).toThrow(
      /cannot be written/,
    );
  });
});

describe('parseSummaryCsv', () => {
  it('round-trips formatSummaryCsv in weeks and days', () => {
    const weeks = parseSummaryCsv(formatSummaryCsv(summaries, { unit: 'weeks', monetary: true }));
    expect(weeks).toHaveLength(2357);
    expect(weeks[0]).toEqual({ id: '1', x: 2, tx: 30.43, T: 38.86, monetary: 22.35 });
    const days = parseSummaryCsv(formatSummaryCsv(summaries, { unit: 'days', monetary: false }));
    expect(days.map((r) => [r.id, r.x, r.tx, r.T, r.monetary])).toEqual(
      summaries.map((s) => [s.id, s.x, s.txDays, s.TDays, null]),
    );
  });

  it('accepts the lifetimes, pandas and Fader-Hardie headers, CRLF and no trailing newline', () => {
    const expected = [{ id: '1', x: 2, tx: 30.43, T: 38.86, monetary: 22.35 }];
    expect(parseSummaryCsv('ID,x,t_x,T,zbar\r\n1,2,30.43,38.86,22.35')).toEqual(expected);
    expect(parseSummaryCsv('customer_id,frequency,recency,T,monetary_value\n1,2,30.43,38.86,22.35\n')).toEqual(
      expected,
    );
    expect(parseSummaryCsv('ID,frequency,recency,T,monetary\r\n0001,2,30.43,38.86,22.35\r\n')).toEqual(expected);
    expect(parseSummaryCsv('ID,frequency,recency,T\n5,0,0.0,27.0\n')).toEqual([
      { id: '5', x: 0, tx: 0, T: 27, monetary: null },
    ]);
    expect(parseSummaryCsv('ID,frequency,recency,T\n')).toEqual([]);
  });

  it('reads the with_transactions file as shipped (CRLF, no final newline)', () => {
    const text = gunzipText('cdnow_customers_summary_with_transactions.csv.gz');
    expect(text.endsWith('\r\n')).toBe(false);
    expect(parseSummaryCsv(text).at(-1)).toEqual({ id: '2357', x: 0, tx: 0, T: 27, monetary: 0 });
  });

  it('names the line of a bad row', () => {
    const head = 'ID,frequency,recency,T,monetary\n1,2,30.43,38.86,22.35\n';
    expect(() => parseSummaryCsv('')).toThrow(/line 1: expected a header/);
    expect(() => parseSummaryCsv('ID,frequency,recency\n1,2,3\n')).toThrow(/line 1/);
    expect(() => parseSummaryCsv(`${head}2,1,1.0,2.0\n`)).toThrow(/line 3: expected 5 fields, got 4/);
    expect(() => parseSummaryCsv(`${head}2,1.5,1.0,2.0,3.00\n`)).toThrow(/line 3: frequency "1.5"/);
    expect(() => parseSummaryCsv(`${head}2,1,-1.0,2.0,3.00\n`)).toThrow(/line 3: recency "-1.0"/);
    expect(() => parseSummaryCsv(`${head}2,1,abc,2.0,3.00\n`)).toThrow(/line 3: recency/);
    expect(() => parseSummaryCsv(`${head}2,1,3.0,2.0,3.00\n`)).toThrow(/line 3: recency 3.0 is after T 2.0/);
    expect(() => parseSummaryCsv(`${head}2,0,1.0,2.0,0.00\n`)).toThrow(/line 3: recency 1.0 with frequency 0/);
    expect(() => parseSummaryCsv(`${head}2,1,1.0,2.0,\n`)).toThrow(/line 3: monetary ""/);
    expect(() => parseSummaryCsv(`${head},1,1.0,2.0,1.00\n`)).toThrow(/line 3: empty ID/);
    expect(() => parseSummaryCsv(`${head}01,1,1.0,2.0,1.00\n`)).toThrow(/line 3: duplicate ID 1/);
    expect(() => parseSummaryCsv(`${head}\n2,1,1.0,2.0,1.00\n`)).toThrow(/line 3: expected 5 fields, got 1/);
  });
});

describe('churnSummarize', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'memberflow-churn-summarize-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('cdnow: gives the lifetimes summary file', async () => {
    const csv = await churnSummarize({
      format: 'cdnow',
      file: dataFile('CDNOW_sample.txt.gz'),
      calibrationEnd: '1997-09-30',
      unit: 'weeks',
      monetary: false,
      timeZone: 'Asia/Shanghai',
    });
    expect(csv).toBe(gunzipText('cdnow_customers_summary.csv.gz'));
  });

  it('online-retail: purchases by Shanghai calendar day, refunds ignored, gross spend', async () => {
    const file = join(dir, 'retail.csv');
    await writeFile(
      file,
      [
        'InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country',
        '1,85123A,A,1,2011-01-03 10:00,5.00,17850.0,UK', // Shanghai 2011-01-03 (first day)
        '2,85123A,A,2,2011-01-03 17:00,1.00,17850.0,UK', // Shanghai 2011-01-04 01:00: a repeat day
        'C3,85123A,A,-2,2011-01-05 09:00,1.00,17850.0,UK', // refund: the purchase still counts
        '4,22041,B,1,2011-01-10 09:00,3.25,17850.0,UK',
        '5,22041,B,1,2011-01-10 09:00,9.99,,UK', // no customer
        '6,22041,B,1,2011-01-05 09:00,4.00,12346.0,UK',
        '7,POST,P,1,2011-01-06 09:00,4.00,12346.0,UK', // postage: not a purchase
        '8,22041,B,1,2011-01-31 16:30,4.00,12346.0,UK', // Shanghai 2011-02-01 00:30: after the end
        '',
      ].join('\n'),
    );
    const csv = await churnSummarize({
      format: 'online-retail',
      file,
      calibrationEnd: '2011-01-31',
      unit: 'days',
      monetary: true,
      timeZone: 'Asia/Shanghai',
    });
    // 17850: days 01-03, 01-04, 01-10 → x 2, t_x 7, T 28, zbar (2.00 + 3.25) / 2 = 2.625 → 2.63.
    expect(csv).toBe('ID,frequency,recency,T,monetary\n12346,0,0,26,0.00\n17850,2,7,28,2.63\n');
    const london = await churnSummarize({
      format: 'online-retail',
      file,
      calibrationEnd: '2011-01-31',
      unit: 'days',
      monetary: true,
      timeZone: 'Europe/London',
    });
    expect(london).toBe('ID,frequency,recency,T,monetary\n12346,1,26,26,4.00\n17850,1,7,28,3.25\n');
  });

  it('refuses a malformed calibration end', async () => {
    await expect(
      churnSummarize({
        format: 'cdnow',
        file: dataFile('CDNOW_sample.txt.gz'),
        calibrationEnd: '1997-9-30',
        unit: 'weeks',
        monetary: false,
        timeZone: 'UTC',
      }),
    ).rejects.toThrow(/YYYY-MM-DD/);
  });
});

describe('calendar days', () => {
  it('parseIsoDay and isoDay are inverse and refuse impossible dates', () => {
    expect(parseIsoDay('1970-01-01')).toBe(0);
    expect(parseIsoDay('1997-09-30')).toBe(10134);
    expect(isoDay(10134)).toBe('1997-09-30');
    expect(() => parseIsoDay('1997-02-29')).toThrow(/YYYY-MM-DD/);
    expect(() => parseIsoDay('0097-01-01')).toThrow(/YYYY-MM-DD/);
  });
});
