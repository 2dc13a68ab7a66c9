/**
 * UCI "Online Retail" rows → activity events (`memberflow produce --format online-retail`).
 *
 * Documented mapping (one CSV row gives at most one event; every other row is counted
 * under exactly one skip reason, checked in this order):
 *
 * - `invalid`: unparseable InvoiceNo, Quantity, UnitPrice, InvoiceDate or CustomerID.
 * - `out_of_range`: InvoiceDate outside the optional fromDate/toDate window.
 * - `adjustment`: InvoiceNo starting `A` (bad-debt adjustments).
 * - `no_customer`: empty CustomerID (no member to credit).
 * - `non_product`: StockCode in `nonProductStockCodes` (postage, carriage, fees, manual
 *   lines, discounts, samples, gift vouchers `gift_0001_*`): not purchases of items.
 * - `non_positive_price`: UnitPrice ≤ 0.
 * - `non_positive_quantity`: a sale line (no prefix) with Quantity ≤ 0;
 *   `non_negative_quantity`: a cancellation line (`C`) with Quantity ≥ 0.
 * - `zero_amount`: the line amount rounds to 0 pence.
 * - `refund_without_match`: a cancellation line with no earlier purchase left to refund.
 *
 * Fields:
 * - userId: CustomerID without its float suffix (`17850.0` → `17850`).
 * - eventId: `or:<InvoiceNo>:<n>`, n = 0-based position of the row among all rows of that
 *   invoice in file order (skipped rows count too, so ids do not depend on the window).
 * - occurredAt: InvoiceDate read as Europe/London wall time (GMT in winter, BST in summer),
 *   as epoch ms. A nonexistent time (spring-forward gap) moves forward an hour; an ambiguous
 *   one (autumn overlap) takes the earlier instant (no such times occur in the data).
 * - amountFen: pence, treating 1 GBP as 1 yuan (amountFen = pence). UnitPrice is parsed as a
 *   decimal string into integer thousandths of a pound (at most 3 decimals), so
 *   amount = |Quantity| × thousandths, rounded half up to whole pence — no floating point
 *   (`2.55` × 6 → 1530; `0.29` × 12 → 348; `0.004` × 1 → 0.4 p → 0 → `zero_amount`).
 * - itemId: StockCode as written (the data has case variants like `85123A`/`85123a`).
 * - category: `stock:` + the StockCode's first two digits (`85123A` → `stock:85`), or for
 *   codes starting with letters, their first four letters upper-cased (`DCGS0073` → `stock:DCGS`).
 * - source: `online-retail`.
 * - purchase: a sale line (InvoiceNo of digits) with Quantity > 0.
 * - refund: a `C` line (Quantity < 0) refunds an earlier purchase by the same customer of the
 *   same StockCode: the most recent one whose remaining refundable amount covers this line,
 *   else the most recent with anything left, the amount capped at what is left. refundOf = that
 *   purchase's eventId. Remaining amounts are tracked, so refunds never exceed a purchase.
 *   One cancellation line refunds one purchase (never split across several).
 */
import type { ActivityEvent } from '../contracts/activity-event.js';
import { readCsvRecords } from './csv.js';

export const onlineRetailSource = 'online-retail';
export const onlineRetailTimeZone = 'Europe/London';

/** Stock codes that are not items (found by listing every non-numeric code in the data). */
export const nonProductStockCodes: readonly string[] = [
  'POST', // postage
  'DOT', // dotcom postage
  'C2', // carriage
  'M', // manual line (also written `m`)
  'D', // discount
  'S', // samples
  'B', // adjust bad debt
  'BANK CHARGES',
  'AMAZONFEE',
  'CRUK', // charity commission
  'PADS', // cushion pads priced 0.001 as a placeholder
  'gift_0001_10',
  'gift_0001_20',
  'gift_0001_30',
  'gift_0001_40',
  'gift_0001_50',
];

const nonProductUpper = new Set(nonProductStockCodes.map((c) => c.toUpperCase()));

export function isNonProductStockCode(code: string): boolean {
  const upper = code.toUpperCase();
  return nonProductUpper.has(upper) || upper.startsWith('GIFT_');
}

export function stockCategory(code: string): string {
  const digits = /^\d{2}/.exec(code);
  if (digits) return `stock:${digits[0]}`;
  const letters = /^[A-Za-z]{1,4}/.exec(code);
  return `stock:${letters ? letters[0].toUpperCase() : 'other'}`;
}

/** A decimal amount as integer thousandths (`2.55` → 2550); null if not a decimal with ≤ 3 places. */
export function parseThousandths(text: string): number | null {
  const m = /^(-?)(\d+)(?:\.(\d{1,3}))?$/.exec(text.trim());
  if (!m) return null;
  const value = Number(m[2]) * 1000 + Number((m[3] ?? '').padEnd(3, '0'));
  if (!Number.isSafeInteger(value)) return null;
  return m[1] === '-' ? -value : value;
}

/** |quantity| × unit price (thousandths of a pound) in pence, rounded half up; null if too large. */
export function linePence(quantity: number, priceThousandths: number): number | null {
  const thousandths = Math.abs(quantity) * priceThousandths;
  if (!Number.isSafeInteger(thousandths + 5)) return null;
  const up = thousandths + 5;
  return (up - (up % 10)) / 10;
}

const offsetFormatters = new Map<string, Intl.DateTimeFormat>();

/** The zone's UTC offset in ms at an instant. */
function zoneOffsetMs(epochMs: number, timeZone: string): number {
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
  const parts: Record<string, number> = {};
  for (const p of f.formatToParts(new Date(epochMs))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  const wall = Date.UTC(parts.year!, parts.month! - 1, parts.day, parts.hour, parts.minute, parts.second);
  return wall - (epochMs - (((epochMs % 1000) + 1000) % 1000));
}

/** Wall-clock text `YYYY-MM-DD HH:MM[:SS]` read as if UTC, with its local hour; null if malformed. */
function parseWallClock(local: string): { asUtc: number; hour: string } | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?$/.exec(local.trim());
  if (!m) return null;
  // An optional group that did not match is undefined, whatever the type says.
  const [y, mo, d, h, mi, s] = m.slice(1).map((v: string | undefined) => Number(v ?? 0)) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) return null;
  const asUtc = Date.UTC(y, mo - 1, d, h, mi, s);
  if (new Date(asUtc).getUTCDate() !== d) return null; // e.g. 2011-02-30
  return { asUtc, hour: `${m[1]}-${m[2]}-${m[3]} ${m[4]}` };
}

/**
 * Wall-clock time `YYYY-MM-DD HH:MM[:SS]` in a zone → epoch ms, or null if malformed.
 * Gaps resolve forward and overlaps to the earlier instant (like Temporal's "compatible").
 */
export function zonedLocalToEpochMs(local: string, timeZone: string): number | null {
  const wall = parseWallClock(local);
  return wall === null ? null : wallToEpochMs(wall.asUtc, timeZone);
}

function wallToEpochMs(asUtc: number, timeZone: string): number {
  // Offsets a day either side bracket any single transition near this time.
  const before = zoneOffsetMs(asUtc - 86_400_000, timeZone);
  const after = zoneOffsetMs(asUtc + 86_400_000, timeZone);
  if (before === after && zoneOffsetMs(asUtc - before, timeZone) === before) return asUtc - before;
  const candidates = [asUtc - before, asUtc - after].filter((t) => asUtc - t === zoneOffsetMs(t, timeZone));
  return candidates.length > 0 ? Math.min(...candidates) : asUtc - before;
}

/**
 * London wall-clock text → epoch ms, with the offset cached per local hour: London's
 * transitions happen on whole hours and shift by a whole hour, so one offset fits each hour.
 */
export class LondonClock {
  private readonly hourOffsets = new Map<string, number>();
  /** Rows share invoice times (~23k distinct in 542k rows): skip re-parsing. */
  private readonly seen = new Map<string, number | null>();

  toEpochMs(local: string): number | null {
    let t = this.seen.get(local);
    if (t === undefined) {
      t = this.convert(local);
      if (this.seen.size >= 100_000) this.seen.clear();
      this.seen.set(local, t);
    }
    return t;
  }

  private convert(local: string): number | null {
    const wall = parseWallClock(local);
    if (wall === null) return null;
    let offset = this.hourOffsets.get(wall.hour);
    if (offset === undefined) {
      const hourStart = wall.asUtc - (wall.asUtc % 3_600_000);
      offset = hourStart - wallToEpochMs(hourStart, onlineRetailTimeZone);
      this.hourOffsets.set(wall.hour, offset);
    }
    return wall.asUtc - offset;
  }
}

export type OnlineRetailSkipReason =
  | 'invalid'
  | 'out_of_range'
  | 'adjustment'
  | 'no_customer'
  | 'non_product'
  | 'non_positive_price'
  | 'non_positive_quantity'
  | 'non_negative_quantity'
  | 'zero_amount'
  | 'refund_without_match';

export interface OnlineRetailStats {
  rows: number;
  emitted: number;
  purchases: number;
  refunds: number;
  skipped: Partial<Record<OnlineRetailSkipReason, number>>;
}

export interface OnlineRetailWindow {
  /** Inclusive, compared with InvoiceDate at the bound's own precision (`2011-06` or `2011-06-30`). */
  fromDate?: string;
  /** Inclusive, same comparison (`toDate: '2011-06-30'` keeps all of 30 June). */
  toDate?: string;
}

/** True when the row's InvoiceDate is after the window's end (file order is date order). */
export function isAfterWindow(invoiceDate: string, window: OnlineRetailWindow): boolean {
  return window.toDate !== undefined && invoiceDate.slice(0, window.toDate.length) > window.toDate;
}

function inWindow(invoiceDate: string, window: OnlineRetailWindow): boolean {
  if (window.fromDate !== undefined && invoiceDate.slice(0, window.fromDate.length) < window.fromDate) return false;
  return !isAfterWindow(invoiceDate, window);
}

interface Refundable {
  eventId: string;
  remaining: number;
}

interface LineFacts {
  eventId: string;
  userId: string;
  occurredAt: number;
  itemId: string;
  category: string;
}

/** Written out in the contract's field order (also the JSON order downstream). */
function activity(
  type: 'purchase' | 'refund',
  f: LineFacts,
  amountFen: number,
  refundOf: string | null,
): ActivityEvent {
  return {
    eventId: f.eventId,
    userId: f.userId,
    type,
    occurredAt: f.occurredAt,
    source: onlineRetailSource,
    referrerId: null,
    amountFen,
    itemId: f.itemId,
    category: f.category,
    plan: null,
    periodEnd: null,
    refundOf,
    seconds: null,
    points: null,
    rewardId: null,
    redeemOf: null,
  };
}

/** Maps rows in file order; keeps the per-invoice line counters and refundable purchases. */
export class OnlineRetailMapper {
  readonly window: OnlineRetailWindow;
  private readonly invoiceLines = new Map<string, number>();
  /** `${userId}\u0000${stockCode}` → that member's purchases of the item, oldest first. */
  private readonly purchases = new Map<string, Refundable[]>();
  private readonly clock = new LondonClock();
  private readonly members = new Set<string>();
  private readonly counts: OnlineRetailStats = { rows: 0, emitted: 0, purchases: 0, refunds: 0, skipped: {} };

  constructor(window: OnlineRetailWindow = {}) {
    this.window = window;
  }

  map(row: Readonly<Record<string, string>>): ActivityEvent | null {
    this.counts.rows++;
    const invoice = (row.InvoiceNo ?? '').trim();
    const line = this.invoiceLines.get(invoice) ?? 0;
    this.invoiceLines.set(invoice, line + 1);

    const kind = /^([CA]?)\d+$/.exec(invoice)?.[1];
    const quantity = /^-?\d+$/.test((row.Quantity ?? '').trim()) ? Number(row.Quantity) : NaN;
    const price = parseThousandths(row.UnitPrice ?? '');
    const date = (row.InvoiceDate ?? '').trim();
    const occurredAt = this.clock.toEpochMs(date);
    const customer = (row.CustomerID ?? '').trim();
    const userId = customer === '' ? '' : /^(\d+)(?:\.0*)?$/.exec(customer)?.[1];
    const stockCode = (row.StockCode ?? '').trim();
    if (
      kind === undefined ||
      !Number.isSafeInteger(quantity) ||
      price === null ||
      occurredAt === null ||
      userId === undefined ||
      stockCode === ''
    ) {
      return this.skip('invalid');
    }
    if (!inWindow(date, this.window)) return this.skip('out_of_range');
    if (kind === 'A') return this.skip('adjustment');
    if (userId === '') return this.skip('no_customer');
    if (isNonProductStockCode(stockCode)) return this.skip('non_product');
    if (price <= 0) return this.skip('non_positive_price');
    const cancellation = kind === 'C';
    if (cancellation ? quantity >= 0 : quantity <= 0) {
      return this.skip(cancellation ? 'non_negative_quantity' : 'non_positive_quantity');
    }
    const amount = linePence(quantity, price);
    if (amount === null) return this.skip('invalid');
    if (amount === 0) return this.skip('zero_amount');

    const eventId = `or:${invoice}:${line}`;
    const key = `${userId}\u0000${stockCode}`;
    const facts: LineFacts = { eventId, userId, occurredAt, itemId: stockCode, category: stockCategory(stockCode) };
    if (!cancellation) {
      const list = this.purchases.get(key);
      if (list) list.push({ eventId, remaining: amount });
      else this.purchases.set(key, [{ eventId, remaining: amount }]);
      this.counts.purchases++;
      return this.emit(activity('purchase', facts, amount, null));
    }
    const target = pickRefundTarget(this.purchases.get(key) ?? [], amount);
    if (!target) return this.skip('refund_without_match');
    const refunded = Math.min(amount, target.remaining);
    target.remaining -= refunded;
    this.counts.refunds++;
    return this.emit(activity('refund', facts, refunded, target.eventId));
  }

  stats(): OnlineRetailStats {
    return { ...this.counts, skipped: { ...this.counts.skipped } };
  }

  /** Members (userIds) that received at least one event. */
  distinctMembers(): number {
    return this.members.size;
  }

  private skip(reason: OnlineRetailSkipReason): null {
    this.counts.skipped[reason] = (this.counts.skipped[reason] ?? 0) + 1;
    return null;
  }

  private emit(e: ActivityEvent): ActivityEvent {
    this.counts.emitted++;
    this.members.add(e.userId);
    return e;
  }
}

/** Most recent purchase covering `amount`, else the most recent with anything left. */
function pickRefundTarget(list: readonly Refundable[], amount: number): Refundable | null {
  let partial: Refundable | null = null;
  for (let i = list.length - 1; i >= 0; i--) {
    const p = list[i]!;
    if (p.remaining >= amount) return p;
    if (partial === null && p.remaining > 0) partial = p;
  }
  return partial;
}

export interface OnlineRetailOptions extends OnlineRetailWindow {
  /** Read at most this many data rows. */
  limitRows?: number;
}

/** The event stream, plus the mapper's stats so far (final once the stream is done). */
export type OnlineRetailEventStream = AsyncGenerator<ActivityEvent, OnlineRetailStats> & {
  stats(): OnlineRetailStats;
};

/**
 * Events from a `.csv`, `.csv.gz` or directory of per-day files, in file order
 * (which is InvoiceDate order, so reading stops at the first row after `toDate`).
 */
export function onlineRetailEvents(path: string, opts: OnlineRetailOptions = {}): OnlineRetailEventStream {
  const mapper = new OnlineRetailMapper({ fromDate: opts.fromDate, toDate: opts.toDate });
  return Object.assign(mapRows(path, mapper, opts.limitRows), { stats: () => mapper.stats() });
}

async function* mapRows(
  path: string,
  mapper: OnlineRetailMapper,
  limitRows: number | undefined,
): AsyncGenerator<ActivityEvent, OnlineRetailStats> {
  let read = 0;
  for await (const row of readCsvRecords(path)) {
    if (limitRows !== undefined && read >= limitRows) break;
    if (isAfterWindow((row.InvoiceDate ?? '').trim(), mapper.window)) break;
    read++;
    const e = mapper.map(row);
    if (e) yield e;
  }
  return mapper.stats();
}
