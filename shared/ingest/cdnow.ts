/**
 * CDNOW purchase logs (data/cdnow/README.md) → CLV transactions and activity events.
 *
 * Two layouts, told apart by the number of whitespace-separated columns:
 * - sample (`CDNOW_sample.txt`, no header): master id, sample id, YYYYMMDD, CDs, dollars;
 * - master (`CDNOW_master.txt`, one header line): customer id, YYYYMMDD, CDs, dollars.
 * The member is the sample id in the sample (that is the ID of lifetimes' summaries) and the
 * customer id in the master, written as an integer (`0001` → `1`).
 *
 * Events (`memberflow produce --format cdnow`), one `purchase` per row, zero-dollar rows included:
 * - eventId `cdnow:<id>:<n>`, n = 0-based row of that member in file order (rows outside the
 *   date window count too, so ids do not depend on the window); userId `cdnow-<id>`;
 * - occurredAt = 12:00 local time in the platform zone on the CDNOW date, so the member's
 *   calendar day there is the CDNOW date (noon keeps clear of midnight and DST changes);
 * - amountFen = cents: 1 US$ is treated as 1 yuan, like GBP for Online Retail;
 * - itemId `cdnow-cds-<CDs>`, category `music`, source `cdnow`.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import type { ActivityEvent } from '../contracts/activity-event.js';
import { calendarDay, isoDay, type Transaction } from '../clv/transactions.js';
import { zonedLocalToEpochMs } from './online-retail.js';

export const cdnowSource = 'cdnow';

export interface CdnowRow {
  /** Sample id in the sample layout, customer id in the master, as an integer string. */
  memberId: string;
  day: number;
  cds: number;
  amountCents: number;
}

type Layout = 'sample' | 'master';

const digits = /^\d+$/;

function integerText(id: string): string {
  return id.replace(/^0+(?=\d)/, '');
}

/** `29.33` → 2933, `0.00` → 0, `12` → 1200: decimal text to cents without floating point. */
export function parseCents(text: string): number | null {
  const m = /^(\d+)(?:\.(\d{1,2}))?$/.exec(text);
  if (!m) return null;
  const cents = Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'));
  return Number.isSafeInteger(cents) ? cents : null;
}

function parseYmd(text: string): number | null {
  const m = /^(\d{4})(\d{2})(\d{2})$/.exec(text);
  return m ? calendarDay(Number(m[1]), Number(m[2]), Number(m[3])) : null;
}

/** Parses lines in order; knows the layout once it has seen the first data row. */
export class CdnowLineParser {
  private lineNumber = 0;
  private layout: Layout | null = null;

  /** The row on this line, or null for a blank line or the master header; throws on a bad line. */
  parse(line: string): CdnowRow | null {
    this.lineNumber++;
    const cols = line.trim().split(/\s+/);
    if (cols.length === 1 && cols[0] === '') return null;
    if (this.lineNumber === 1 && cols.length === 4 && !digits.test(cols[0]!)) return null; // master header: `customer_id  date ...`
    const layout: Layout | null = cols.length === 5 ? 'sample' : cols.length === 4 ? 'master' : null;
    if (layout === null) return this.fail(`expected 5 (sample) or 4 (master) columns, got ${cols.length}`);
    if (this.layout !== null && layout !== this.layout) return this.fail(`a ${layout} row in a ${this.layout} file`);
    this.layout = layout;
    const [id, date, cds, dollars] = layout === 'sample' ? cols.slice(1) : cols;
    if (!digits.test(id!) || (layout === 'sample' && !digits.test(cols[0]!)))
      return this.fail(`bad customer id in ${JSON.stringify(line.trim())}`);
    const day = parseYmd(date!);
    if (day === null) return this.fail(`bad date ${JSON.stringify(date)}`);
    if (!digits.test(cds!)) return this.fail(`bad number of CDs ${JSON.stringify(cds)}`);
    const amountCents = parseCents(dollars!);
    if (amountCents === null) return this.fail(`bad dollar value ${JSON.stringify(dollars)}`);
    return { memberId: integerText(id!), day, cds: Number(cds), amountCents };
  }

  private fail(reason: string): never {
    throw new Error(`CDNOW line ${this.lineNumber}: ${reason}`);
  }
}

/** Every row of a CDNOW text (sample or master layout) as a transaction, in file order. */
export function cdnowTransactions(text: string): Transaction[] {
  const parser = new CdnowLineParser();
  const out: Transaction[] = [];
  for (const line of text.split('\n')) {
    const row = parser.parse(line);
    if (row) out.push({ memberId: row.memberId, day: row.day, amountCents: row.amountCents });
  }
  return out;
}

/** Lines of a `.txt` or gzip'd `.txt.gz`. */
export function readTextLines(path: string): AsyncIterable<string> {
  const input = path.endsWith('.gz') ? createReadStream(path).pipe(createGunzip()) : createReadStream(path);
  return createInterface({ input, crlfDelay: Infinity });
}

export interface CdnowEventOptions {
  /** Platform time zone: events fall at noon of the CDNOW date there. */
  timeZone: string;
  /** Inclusive, compared with the date at the bound's own precision (`1997-03` or `1997-03-31`). */
  fromDate?: string;
  /** Inclusive, same comparison. */
  toDate?: string;
}

function checkBound(name: string, bound: string | undefined): void {
  if (bound !== undefined && !/^\d{4}(?:-\d{2}(?:-\d{2})?)?$/.test(bound)) {
    throw new Error(`${name} must be YYYY, YYYY-MM or YYYY-MM-DD, got ${JSON.stringify(bound)}`);
  }
}

function inWindow(date: string, o: CdnowEventOptions): boolean {
  if (o.fromDate !== undefined && date.slice(0, o.fromDate.length) < o.fromDate) return false;
  return o.toDate === undefined || date.slice(0, o.toDate.length) <= o.toDate;
}

export function cdnowEvent(row: CdnowRow, n: number, occurredAt: number): ActivityEvent {
  return {
    eventId: `cdnow:${row.memberId}:${n}`,
    userId: `cdnow-${row.memberId}`,
    type: 'purchase',
    occurredAt,
    source: cdnowSource,
    referrerId: null,
    amountFen: row.amountCents, // 1 US$ treated as 1 yuan: cents = fen
    itemId: `cdnow-cds-${row.cds}`,
    category: 'music',
    plan: null,
    periodEnd: null,
    refundOf: null,
    seconds: null,
    points: null,
    rewardId: null,
    redeemOf: null,
  };
}

function localNoon(date: string, timeZone: string): number {
  const t = zonedLocalToEpochMs(`${date} 12:00`, timeZone);
  if (t === null) throw new Error(`cannot place ${date} 12:00 in ${timeZone}`);
  return t;
}

/** One purchase event per row of a CDNOW `.txt` / `.txt.gz`, in file order, within the window. */
export async function* cdnowActivityEvents(path: string, o: CdnowEventOptions): AsyncGenerator<ActivityEvent> {
  checkBound('fromDate', o.fromDate);
  checkBound('toDate', o.toDate);
  const parser = new CdnowLineParser();
  const rowsPerMember = new Map<string, number>();
  const noonOf = new Map<number, number>(); // a few hundred distinct dates: convert each once
  for await (const line of readTextLines(path)) {
    const row = parser.parse(line);
    if (!row) continue;
    const n = rowsPerMember.get(row.memberId) ?? 0;
    rowsPerMember.set(row.memberId, n + 1);
    const date = isoDay(row.day);
    if (!inWindow(date, o)) continue;
    let noon = noonOf.get(row.day);
    if (noon === undefined) noonOf.set(row.day, (noon = localNoon(date, o.timeZone)));
    yield cdnowEvent(row, n, noon);
  }
}
