import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCsvLine, readCsvRecords } from '../../shared/ingest/csv.js';
import {
  LondonClock,
  OnlineRetailMapper,
  isNonProductStockCode,
  linePence,
  onlineRetailEvents,
  parseThousandths,
  stockCategory,
  zonedLocalToEpochMs,
  type OnlineRetailStats,
} from '../../shared/ingest/online-retail.js';
import type { ActivityEvent } from '../../shared/contracts/activity-event.js';

const header = 'InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country';
const realFile = fileURLToPath(new URL('../../data/online-retail/online-retail.csv.gz', import.meta.url));

function records(csvBody: string): Record<string, string>[] {
  const keys = parseCsvLine(header);
  return csvBody
    .trim()
    .split('\n')
    .map((line) => {
      const fields = parseCsvLine(line.trim());
      return Object.fromEntries(keys.map((k, i) => [k, fields[i] ?? '']));
    });
}

function mapAll(
  csvBody: string,
  mapper = new OnlineRetailMapper(),
): { events: ActivityEvent[]; stats: OnlineRetailStats } {
  const events = records(csvBody).flatMap((r) => mapper.map(r) ?? []);
  return { events, stats: mapper.stats() };
}

const skippedTotal = (s: OnlineRetailStats) => Object.values(s.skipped).reduce((a, b) => a + b, 0);

describe('parseCsvLine', () => {
  it('splits plain fields and keeps empty ones', () => {
    expect(parseCsvLine('a,b,,d,')).toEqual(['a', 'b', '', 'd', '']);
    expect(parseCsvLine('')).toEqual(['']);
  });

  it('handles quoted commas, doubled quotes and trailing spaces inside quotes', () => {
    expect(parseCsvLine('536381,82567,"AIRLINE LOUNGE,METAL SIGN",2')).toEqual([
      '536381',
      '82567',
      'AIRLINE LOUNGE,METAL SIGN',
      '2',
    ]);
    expect(parseCsvLine('536477,22041,"RECORD FRAME 7"" SINGLE SIZE ",48')).toEqual([
      '536477',
      '22041',
      'RECORD FRAME 7" SINGLE SIZE ',
      '48',
    ]);
    expect(parseCsvLine('x,"FANCY FONT BIRTHDAY CARD, "')).toEqual(['x', 'FANCY FONT BIRTHDAY CARD, ']);
    expect(parseCsvLine('"",""""')).toEqual(['', '"']);
  });

  it('drops a trailing CR and keeps a quote inside an unquoted field', () => {
    expect(parseCsvLine('a,"b,c"\r')).toEqual(['a', 'b,c']);
    expect(parseCsvLine('5 1/2" tin,x')).toEqual(['5 1/2" tin', 'x']);
  });

  it('refuses an unterminated quoted field', () => {
    expect(() => parseCsvLine('a,"open')).toThrow(/unterminated/);
  });
});

describe('readCsvRecords', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'memberflow-csv-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const collect = async (path: string) => {
    const out: Record<string, string>[] = [];
    for await (const r of readCsvRecords(path)) out.push(r);
    return out;
  };

  it('reads CRLF .csv and .csv.gz with the header as keys', async () => {
    const text = 'id,name\r\n1,"a, b"\r\n\r\n2,c\r\n';
    await writeFile(join(dir, 'one.csv'), text);
    await writeFile(join(dir, 'one.csv.gz'), gzipSync(text));
    const expected = [
      { id: '1', name: 'a, b' },
      { id: '2', name: 'c' },
    ];
    expect(await collect(join(dir, 'one.csv'))).toEqual(expected);
    expect(await collect(join(dir, 'one.csv.gz'))).toEqual(expected);
  });

  it('reads a directory in name order, each file with its own header', async () => {
    const days = join(dir, 'by-day');
    await mkdir(days);
    await writeFile(join(days, '2011-01-05.csv'), 'b,a\n2,1\n');
    await writeFile(join(days, '2011-01-04.csv.gz'), gzipSync('a,b\n0,9\n'));
    await writeFile(join(days, 'README.md'), 'not data');
    expect(await collect(days)).toEqual([
      { a: '0', b: '9' },
      { b: '2', a: '1' },
    ]);
  });

  it('reads a quoted field that holds a line break (RFC 4180)', async () => {
    await writeFile(join(dir, 'multiline.csv'), 'a,b\n1,"two\nlines"\n3,4\n');
    expect(await collect(join(dir, 'multiline.csv'))).toEqual([
      { a: '1', b: 'two\nlines' },
      { a: '3', b: '4' },
    ]);
  });

  it('refuses a row whose field count differs from the header', async () => {
    await writeFile(join(dir, 'bad.csv'), 'a,b\n1,2,3\n');
    await expect(collect(join(dir, 'bad.csv'))).rejects.toThrow(/bad\.csv:2: 3 fields, header has 2/);
  });
});

describe('money in integer arithmetic', () => {
  it('parses prices as thousandths of a pound', () => {
    expect(parseThousandths('2.55')).toBe(2550);
    expect(parseThousandths('0.29')).toBe(290);
    expect(parseThousandths('16.95')).toBe(16950);
    expect(parseThousandths('15.0')).toBe(15000);
    expect(parseThousandths('0.001')).toBe(1);
    expect(parseThousandths('-11062.06')).toBe(-11062060);
    expect(parseThousandths('1.2345')).toBeNull();
    expect(parseThousandths('1e3')).toBeNull();
  });

  it('rounds line amounts half up to whole pence, exactly', () => {
    // Floating point gives 0.29 * 12 * 100 = 347.99999999999994 and 16.95 * 100 = 1694.9999999999998.
    expect(linePence(12, 290)).toBe(348);
    expect(linePence(3, 1250)).toBe(375);
    expect(linePence(1, 16950)).toBe(1695);
    expect(linePence(-24, 290)).toBe(696);
    expect(linePence(1, 5)).toBe(1); // 0.5 p rounds up
    expect(linePence(1, 4)).toBe(0);
  });
});

describe('Europe/London wall time', () => {
  const london = (s: string) => zonedLocalToEpochMs(s, 'Europe/London');

  it('uses GMT in December and BST in July', () => {
    expect(london('2010-12-01 09:41:00')).toBe(Date.UTC(2010, 11, 1, 9, 41));
    expect(london('2011-07-03 14:58:00')).toBe(Date.UTC(2011, 6, 3, 13, 58));
  });

  it('moves a spring-forward gap time forward and takes the earlier of an autumn overlap', () => {
    expect(london('2011-03-27 00:59:00')).toBe(Date.UTC(2011, 2, 27, 0, 59));
    expect(london('2011-03-27 01:30:00')).toBe(Date.UTC(2011, 2, 27, 1, 30)); // = 02:30 BST
    expect(london('2011-03-27 02:00:00')).toBe(Date.UTC(2011, 2, 27, 1, 0));
    expect(london('2011-10-30 00:30:00')).toBe(Date.UTC(2011, 9, 29, 23, 30));
    expect(london('2011-10-30 01:30:00')).toBe(Date.UTC(2011, 9, 30, 0, 30)); // BST instance
    expect(london('2011-10-30 02:00:00')).toBe(Date.UTC(2011, 9, 30, 2, 0));
  });

  it('refuses malformed or impossible dates', () => {
    expect(london('2011-02-30 10:00:00')).toBeNull();
    expect(london('01/12/2010 08:26')).toBeNull();
  });

  it('LondonClock (hour-cached) agrees with the direct conversion around both 2011 transitions', () => {
    const clock = new LondonClock();
    for (const day of ['2011-03-26', '2011-03-27', '2011-03-28', '2011-10-29', '2011-10-30', '2011-10-31']) {
      for (let h = 0; h < 24; h++) {
        for (const min of ['00', '29', '59']) {
          const text = `${day} ${String(h).padStart(2, '0')}:${min}:00`;
          expect(clock.toEpochMs(text), text).toBe(london(text));
        }
      }
    }
  });
});

describe('OnlineRetailMapper: purchases', () => {
  it('maps real rows to purchase events', () => {
    const { events, stats } = mapAll(`
536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,2010-12-01 08:26:00,2.55,17850.0,United Kingdom
536365,71053,WHITE METAL LANTERN,6,2010-12-01 08:26:00,3.39,17850.0,United Kingdom
536409,21980,PACK OF 12 RED RETROSPOT TISSUES ,12,2010-12-01 11:45:00,0.29,17908.0,United Kingdom
536381,82567,"AIRLINE LOUNGE,METAL SIGN",2,2010-12-01 09:41:00,2.1,15311.0,United Kingdom
536381,71270,PHOTO CLIP LINE,3,2010-12-01 09:41:00,1.25,15311.0,United Kingdom
558769,23008,DOLLY GIRL BABY GIFT SET,1,2011-07-03 14:58:00,16.95,17899.0,United Kingdom`);
    expect(stats).toEqual({ rows: 6, emitted: 6, purchases: 6, refunds: 0, skipped: {} });
    expect(events[0]).toEqual({
      eventId: 'or:536365:0',
      userId: '17850',
      type: 'purchase',
      occurredAt: Date.UTC(2010, 11, 1, 8, 26),
      source: 'online-retail',
      referrerId: null,
      amountFen: 1530,
      itemId: '85123A',
      category: 'stock:85',
      plan: null,
      periodEnd: null,
      refundOf: null,
      seconds: null,
      points: null,
      rewardId: null,
      redeemOf: null,
    });
    expect(events.map((e) => [e.eventId, e.userId, e.amountFen])).toEqual([
      ['or:536365:0', '17850', 1530],
      ['or:536365:1', '17850', 2034],
      ['or:536409:0', '17908', 348],
      ['or:536381:0', '15311', 420],
      ['or:536381:1', '15311', 375],
      ['or:558769:0', '17899', 1695],
    ]);
    expect(events[5]!.occurredAt).toBe(Date.UTC(2011, 6, 3, 13, 58)); // BST
    for (const e of events) expect(Number.isSafeInteger(e.amountFen)).toBe(true);
  });

  it('counts skipped rows by reason, and skipped rows still take their invoice line number', () => {
    const { events, stats } = mapAll(`
536544,21773,DECORATIVE ROSE BATHROOM BOTTLE,1,2010-12-01 14:32:00,2.51,,United Kingdom
536544,21774,DECORATIVE CATS BATHROOM BOTTLE,2,2010-12-01 14:32:00,2.51,17850.0,United Kingdom
536540,POST,POSTAGE,3,2010-12-01 14:05:00,18.0,12549.0,Spain
537197,22841,ROUND CAKE TIN VINTAGE GREEN,1,2010-12-05 14:02:00,0.0,12647.0,Germany
550193,PADS,PADS TO MATCH ALL CUSHIONS,1,2011-04-15 09:27:00,0.001,13952.0,United Kingdom
A563185,B,Adjust bad debt,1,2011-08-12 14:50:00,11062.06,,United Kingdom
561253,DCGS0068,ebay,-10,2011-07-26 11:52:00,0.0,,United Kingdom
999999,22222,X,-1,2011-07-26 11:52:00,1.0,12647.0,United Kingdom
999998,22222,X,1,2011-07-26 11:52:00,0.004,12647.0,United Kingdom
999997,22222,X,1,yesterday,1.0,12647.0,United Kingdom`);
    expect(events.map((e) => e.eventId)).toEqual(['or:536544:1']);
    expect(stats.skipped).toEqual({
      no_customer: 2,
      non_product: 2,
      non_positive_price: 1,
      adjustment: 1,
      non_positive_quantity: 1,
      zero_amount: 1,
      invalid: 1,
    });
    expect(stats.emitted + skippedTotal(stats)).toBe(stats.rows);
  });

  it('keeps only rows inside the date window', () => {
    const mapper = new OnlineRetailMapper({ fromDate: '2010-12-02', toDate: '2010-12-02' });
    const { events, stats } = mapAll(
      `
536365,85123A,A,6,2010-12-01 23:59:00,2.55,17850.0,United Kingdom
536366,85123A,A,6,2010-12-02 00:00:00,2.55,17850.0,United Kingdom
536367,85123A,A,6,2010-12-03 08:00:00,2.55,17850.0,United Kingdom`,
      mapper,
    );
    expect(events.map((e) => e.eventId)).toEqual(['or:536366:0']);
    expect(stats.skipped).toEqual({ out_of_range: 2 });
  });
});

describe('non-product stock codes and categories', () => {
  it('recognises the data set’s fee, postage and voucher codes', () => {
    for (const code of [
      'POST',
      'DOT',
      'C2',
      'M',
      'm',
      'D',
      'S',
      'B',
      'BANK CHARGES',
      'AMAZONFEE',
      'CRUK',
      'PADS',
      'gift_0001_20',
    ]) {
      expect(isNonProductStockCode(code), code).toBe(true);
    }
    for (const code of ['85123A', '22556', 'DCGS0073', 'DCGSSGIRL'])
      expect(isNonProductStockCode(code), code).toBe(false);
  });

  it('derives a coarse category from the stock code', () => {
    expect(stockCategory('85123A')).toBe('stock:85');
    expect(stockCategory('22556')).toBe('stock:22');
    expect(stockCategory('DCGS0073')).toBe('stock:DCGS');
    expect(stockCategory('DCGSSGIRL')).toBe('stock:DCGS');
  });
});

describe('OnlineRetailMapper: refunds', () => {
  it('refunds the most recent purchase that covers the amount, capping partial refunds at what is left', () => {
    const { events, stats } = mapAll(`
540001,22556,PLASTERS IN TIN CIRCUS PARADE ,12,2011-01-04 10:00:00,1.65,17548.0,United Kingdom
540002,22556,PLASTERS IN TIN CIRCUS PARADE ,2,2011-01-05 10:00:00,1.65,17548.0,United Kingdom
540002,22556,PLASTERS IN TIN CIRCUS PARADE ,1,2011-01-05 10:00:00,1.65,12000.0,United Kingdom
C540003,22556,PLASTERS IN TIN CIRCUS PARADE ,-2,2011-01-06 10:00:00,1.65,17548.0,United Kingdom
C540004,22556,PLASTERS IN TIN CIRCUS PARADE ,-5,2011-01-06 11:00:00,1.65,17548.0,United Kingdom
C540005,22556,PLASTERS IN TIN CIRCUS PARADE ,-12,2011-01-06 12:00:00,1.65,17548.0,United Kingdom
C540006,22556,PLASTERS IN TIN CIRCUS PARADE ,-1,2011-01-06 13:00:00,1.65,17548.0,United Kingdom
C540007,21983,PACK OF 12 BLUE PAISLEY TISSUES ,-24,2011-01-06 13:00:00,0.29,12000.0,United Kingdom`);
    const refunds = events.filter((e) => e.type === 'refund');
    expect(refunds.map((e) => [e.eventId, e.userId, e.refundOf, e.amountFen])).toEqual([
      ['or:C540003:0', '17548', 'or:540002:0', 330], // 540002:0 covers 330 exactly
      ['or:C540004:0', '17548', 'or:540001:0', 825], // 540002:0 is used up; 540001:0 covers it
      ['or:C540005:0', '17548', 'or:540001:0', 1155], // 1980 asked, only 1980 - 825 left
    ]);
    expect(refunds[0]!.itemId).toBe('22556');
    expect(refunds[0]!.occurredAt).toBe(Date.UTC(2011, 0, 6, 10));
    expect(stats).toEqual({
      rows: 8,
      emitted: 6,
      purchases: 3,
      refunds: 3,
      skipped: { refund_without_match: 2 },
    });
  });

  it('counts a real cancellation with no earlier purchase as refund_without_match', () => {
    const { events, stats } = mapAll(`
C536391,22556,PLASTERS IN TIN CIRCUS PARADE ,-12,2010-12-01 10:24:00,1.65,17548.0,United Kingdom
C536379,D,Discount,-1,2010-12-01 09:41:00,27.5,14527.0,United Kingdom`);
    expect(events).toEqual([]);
    expect(stats.skipped).toEqual({ refund_without_match: 1, non_product: 1 });
  });
});

describe('the real file (first 5,000 rows)', () => {
  it('streams consistent counts and positive integer amounts', async () => {
    const stream = onlineRetailEvents(realFile, { limitRows: 5000 });
    const ids = new Set<string>();
    let purchases = 0;
    let refunds = 0;
    let last = 0;
    for await (const e of stream) {
      expect(Number.isSafeInteger(e.amountFen) && (e.amountFen ?? 0) > 0, e.eventId).toBe(true);
      expect(ids.has(e.eventId), e.eventId).toBe(false);
      ids.add(e.eventId);
      if (e.type === 'purchase') purchases++;
      if (e.type === 'refund') {
        refunds++;
        expect(ids.has(e.refundOf ?? '')).toBe(true);
      }
      expect(e.occurredAt).toBeGreaterThanOrEqual(last);
      last = e.occurredAt;
    }
    const stats = stream.stats();
    expect(stats.rows).toBe(5000);
    expect(stats.emitted).toBe(ids.size);
    expect(stats.emitted + skippedTotal(stats)).toBe(stats.rows);
    expect([stats.purchases, stats.refunds]).toEqual([purchases, refunds]);
    expect(purchases).toBeGreaterThan(3000);
  });

  it('stops reading after toDate (the first day holds 3,108 rows)', async () => {
    const stream = onlineRetailEvents(realFile, { toDate: '2010-12-01' });
    for await (const e of stream) expect(e.occurredAt).toBeLessThan(Date.UTC(2010, 11, 2));
    expect(stream.stats().rows).toBe(3108);
  });
});
