/**
 * Per-member (x, t_x, T, zbar) summaries for BG/NBD and Gamma-Gamma, and their CSV form.
 *
 * Definitions (those of Fader, Hardie & Lee and of lifetimes' CDNOW files; data/cdnow/README.md):
 * purchases are counted per distinct calendar day, so several orders on one day are one
 * transaction; x = distinct purchase days − 1; t_x = last − first purchase day; T = calibration
 * end − first purchase day; zbar = mean day-level spend over the repeat days (the first day is
 * excluded: it is the "birth" of the customer, not a repeat).
 */
import type { Transaction } from './transactions.js';

export type SummaryUnit = 'weeks' | 'days';

export interface MemberSummary {
  id: string;
  /** Repeat purchase days in the calibration period. */
  x: number;
  /** Days from the first to the last purchase day (t_x). */
  txDays: number;
  /** Days from the first purchase day to the calibration end (T). */
  TDays: number;
  /** Spend on the repeat days (all days but the first), minor units. */
  repeatSpendCents: number;
  /** repeatSpendCents / x rounded half up; 0 when x = 0. */
  zbarCents: number;
}

/** a / b rounded half up (ties away from zero for a ≥ 0), in exact integer arithmetic. */
export function roundHalfUpDiv(a: number, b: number): number {
  if (!Number.isSafeInteger(a) || !Number.isSafeInteger(b) || a < 0 || b <= 0) {
    throw new RangeError(`roundHalfUpDiv needs integers a ≥ 0 and b > 0, got ${a} / ${b}`);
  }
  const n = 2 * a + b;
  const d = 2 * b;
  if (!Number.isSafeInteger(n) || !Number.isSafeInteger(d))
    throw new RangeError(`roundHalfUpDiv overflow: ${a} / ${b}`);
  return (n - (n % d)) / d;
}

/** Spend per calendar day of each member, on days ≤ endDay. */
function spendByDay(transactions: Iterable<Transaction>, endDay: number): Map<string, Map<number, number>> {
  const members = new Map<string, Map<number, number>>();
  for (const t of transactions) {
    if (!Number.isSafeInteger(t.day) || !Number.isSafeInteger(t.amountCents) || t.amountCents < 0) {
      throw new RangeError(
        `transaction of ${t.memberId}: day and amountCents must be integers, amount ≥ 0 (got ${t.day}, ${t.amountCents})`,
      );
    }
    if (t.day > endDay) continue;
    let days = members.get(t.memberId);
    if (!days) members.set(t.memberId, (days = new Map<number, number>()));
    days.set(t.day, (days.get(t.day) ?? 0) + t.amountCents);
  }
  return members;
}

function summarizeMember(id: string, days: ReadonlyMap<number, number>, endDay: number): MemberSummary {
  let first = Infinity;
  let last = -Infinity;
  let total = 0;
  for (const [day, cents] of days) {
    first = Math.min(first, day);
    last = Math.max(last, day);
    total += cents;
  }
  const x = days.size - 1;
  const repeatSpendCents = total - (days.get(first) ?? 0);
  const zbarCents = x === 0 ? 0 : roundHalfUpDiv(repeatSpendCents, x);
  return { id, x, txDays: last - first, TDays: endDay - first, repeatSpendCents, zbarCents };
}

const integerId = /^\d+$/;

/** `0001` → `1`; other ids unchanged. */
export function displayId(id: string): string {
  return integerId.test(id) ? id.replace(/^0+(?=\d)/, '') : id;
}

/** Numeric order when every id is an integer (without Number, so long ids stay exact), else code-unit order. */
function idComparator(ids: readonly string[]): (a: string, b: string) => number {
  const byString = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  if (!ids.every((id) => integerId.test(id))) return byString;
  return (a, b) => {
    const da = displayId(a);
    const db = displayId(b);
    return da.length - db.length || byString(da, db) || byString(a, b);
  };
}

/**
 * Summaries of the members with a purchase on or before `calibrationEndDay` (later
 * transactions are ignored; a member who first buys after the end is absent).
 */
export function summarize(transactions: Iterable<Transaction>, calibrationEndDay: number): MemberSummary[] {
  if (!Number.isSafeInteger(calibrationEndDay))
    throw new RangeError(`calibration end day must be an integer, got ${calibrationEndDay}`);
  const members = spendByDay(transactions, calibrationEndDay);
  const ids = [...members.keys()];
  ids.sort(idComparator(ids));
  return ids.map((id) => summarizeMember(id, members.get(id)!, calibrationEndDay));
}

/** Distinct purchase days per member within [fromDay, toDay] (e.g. holdout-period counts). */
export function countPurchaseDays(
  transactions: Iterable<Transaction>,
  fromDay: number,
  toDay: number,
): Map<string, number> {
  const seen = new Map<string, Set<number>>();
  for (const t of transactions) {
    if (t.day < fromDay || t.day > toDay) continue;
    let days = seen.get(t.memberId);
    if (!days) seen.set(t.memberId, (days = new Set()));
    days.add(t.day);
  }
  return new Map([...seen].map(([id, days]) => [id, days.size]));
}

/**
 * Hundredths as Python prints round(v, 2): the shortest repr, always with a decimal
 * point (3043 → `30.43`, 3040 → `30.4`, 3800 → `38.0`), which is what pandas writes.
 */
export function formatPythonHundredths(hundredths: number): string {
  if (!Number.isSafeInteger(hundredths) || hundredths < 0)
    throw new RangeError(`expected a non-negative integer, got ${hundredths}`);
  const whole = Math.floor(hundredths / 100);
  const frac = String(hundredths - whole * 100).padStart(2, '0');
  return `${whole}.${frac.endsWith('0') ? frac[0] : frac}`;
}

/** Minor units with two decimals (`2235` → `22.35`, `0` → `0.00`). */
export function formatCents(cents: number): string {
  if (!Number.isSafeInteger(cents) || cents < 0) throw new RangeError(`expected a non-negative integer, got ${cents}`);
  const whole = Math.floor(cents / 100);
  return `${whole}.${String(cents - whole * 100).padStart(2, '0')}`;
}

/** Days as weeks rounded to 2 decimals; days/7 is never a tie at 2 decimals, so half-up = Python's round. */
function formatWeeks(days: number): string {
  return formatPythonHundredths(roundHalfUpDiv(days * 100, 7));
}

/** The lifetimes/pandas layout: `ID,frequency,recency,T[,monetary]`, LF, trailing newline. */
export function formatSummaryCsv(rows: readonly MemberSummary[], o: { unit: SummaryUnit; monetary: boolean }): string {
  const duration = o.unit === 'weeks' ? formatWeeks : String;
  const lines = [o.monetary ? 'ID,frequency,recency,T,monetary' : 'ID,frequency,recency,T'];
  for (const r of rows) {
    if (/[",\r\n]/.test(r.id))
      throw new Error(`member id ${JSON.stringify(r.id)} cannot be written to the summary CSV`);
    const fields = [displayId(r.id), String(r.x), duration(r.txDays), duration(r.TDays)];
    if (o.monetary) fields.push(formatCents(r.zbarCents));
    lines.push(fields.join(','));
  }
  return `${lines.join('\n')}\n`;
}

export interface SummaryRow {
  id: string;
  x: number;
  tx: number;
  T: number;
  /** Mean repeat spend in major units; null when the file has no monetary column. */
  monetary: number | null;
}

/** Accepted names per column, lower-case (lifetimes, pandas and the Fader-Hardie spellings). */
const headerNames: readonly (readonly string[])[] = [
  ['id', 'customer_id'],
  ['frequency', 'x'],
  ['recency', 't_x'],
  ['t'],
  ['monetary', 'monetary_value', 'zbar'],
];

const decimal = /^\d+(?:\.\d*)?(?:[eE][+-]?\d+)?$/;

function checkHeader(line: string): boolean {
  const names = line
    .replace(/^\uFEFF/, '')
    .split(',')
    .map((h) => h.trim().toLowerCase());
  return (names.length === 4 || names.length === 5) && names.every((n, i) => headerNames[i]!.includes(n));
}

function parseRow(fields: readonly string[], hasMonetary: boolean): SummaryRow | string {
  const [id, xText, txText, TText, moneyText] = fields.map((f) => f.trim()) as [
    string,
    string,
    string,
    string,
    string?,
  ];
  if (id === '') return 'empty ID';
  if (!/^\d+$/.test(xText)) return `frequency ${JSON.stringify(xText)} is not a non-negative integer`;
  if (!decimal.test(txText)) return `recency ${JSON.stringify(txText)} is not a non-negative number`;
  if (!decimal.test(TText)) return `T ${JSON.stringify(TText)} is not a non-negative number`;
  const x = Number(xText);
  const tx = Number(txText);
  const T = Number(TText);
  if (!Number.isSafeInteger(x) || !Number.isFinite(tx) || !Number.isFinite(T)) return 'number out of range';
  if (tx > T) return `recency ${txText} is after T ${TText}`;
  if (x === 0 && tx !== 0) return `recency ${txText} with frequency 0 (must be 0)`;
  let monetary: number | null = null;
  if (hasMonetary) {
    if (moneyText === undefined || !decimal.test(moneyText) || !Number.isFinite(Number(moneyText))) {
      return `monetary ${JSON.stringify(moneyText ?? '')} is not a non-negative number`;
    }
    monetary = Number(moneyText);
  }
  return { id: displayId(id), x, tx, T, monetary };
}

/** Reads a summary CSV (see headerNames); CRLF or LF, trailing newline optional. Throws with the line number. */
export function parseSummaryCsv(text: string): SummaryRow[] {
  const lines = text.split(/\r?\n/);
  if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
  const header = lines[0] ?? '';
  if (!checkHeader(header)) {
    throw new Error(
      `summary CSV line 1: expected a header like ID,frequency,recency,T[,monetary] or ID,x,t_x,T,zbar, got ${JSON.stringify(header)}`,
    );
  }
  const columns = header.split(',').length;
  const rows: SummaryRow[] = [];
  const seen = new Set<string>();
  for (let i = 1; i < lines.length; i++) {
    const fields = lines[i]!.split(',');
    const row =
      fields.length === columns ? parseRow(fields, columns === 5) : `expected ${columns} fields, got ${fields.length}`;
    if (typeof row === 'string') throw new Error(`summary CSV line ${i + 1}: ${row}`);
    if (seen.has(row.id)) throw new Error(`summary CSV line ${i + 1}: duplicate ID ${row.id}`);
    seen.add(row.id);
    rows.push(row);
  }
  return rows;
}
