import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { formatSummaryCsv, summarize, type SummaryUnit } from '../../shared/clv/summary.js';
import { isoDay, parseIsoDay, type Transaction } from '../../shared/clv/transactions.js';
import { cdnowTransactions } from '../../shared/ingest/cdnow.js';
import { onlineRetailEvents } from '../../shared/ingest/online-retail.js';
import { localDay } from '../../shared/util/time.js';

export interface ChurnSummarizeOptions {
  format: 'cdnow' | 'online-retail';
  file: string;
  /** Last calibration day, YYYY-MM-DD, inclusive. */
  calibrationEnd: string;
  unit: SummaryUnit;
  monetary: boolean;
  /** Platform time zone (rules.timeZone): the calendar that Online Retail purchases are counted in. */
  timeZone: string;
}

/** The (x, t_x, T[, zbar]) summary CSV of a transaction file up to the calibration end. */
export async function churnSummarize(o: ChurnSummarizeOptions): Promise<string> {
  const endDay = parseIsoDay(o.calibrationEnd);
  const transactions = await loadTransactions(o.format, o.file, endDay, o.timeZone);
  return formatSummaryCsv(summarize(transactions, endDay), { unit: o.unit, monetary: o.monetary });
}

/** The purchases of a CDNOW or Online Retail file on calendar days ≤ lastDay (days since 1970-01-01). */
export async function loadTransactions(
  format: ChurnSummarizeOptions['format'],
  file: string,
  lastDay: number,
  timeZone: string,
): Promise<Transaction[]> {
  const all = format === 'cdnow' ? await cdnowFile(file) : await onlineRetailPurchases(file, lastDay, timeZone);
  return all.filter((t) => t.day <= lastDay);
}

/** CDNOW dates are already calendar days (produce puts them at local noon, so the worker sees the same days). */
async function cdnowFile(path: string): Promise<Transaction[]> {
  const bytes = await readFile(path);
  return cdnowTransactions((path.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8'));
}

/**
 * Purchases only: refunds do not undo a purchase day, and spend is gross. Days are taken in
 * the platform zone, as the stream workers do, so the CLI and the worker count the same days.
 */
async function onlineRetailPurchases(path: string, endDay: number, timeZone: string): Promise<Transaction[]> {
  // The file's window is London wall time; one day past the end covers every zone (UTC−12…+14).
  const events = onlineRetailEvents(path, { toDate: isoDay(endDay + 1) });
  const out: Transaction[] = [];
  for await (const e of events) {
    if (e.type !== 'purchase' || e.amountFen === null) continue;
    out.push({ memberId: e.userId, day: localDay(e.occurredAt, timeZone), amountCents: e.amountFen });
  }
  return out;
}
