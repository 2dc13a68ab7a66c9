/**
 * Online Retail as model input: the ingest's purchase events (shared/ingest/online-retail.ts),
 * plus which non-product stock codes it skipped and how often.
 *
 * Purchases only: a refund does not undo having had the item (the member saw it, and
 * counts never go down, which keeps the item statistics sums of deltas).
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { readCsvRecords } from '../ingest/csv.js';
import {
  isNonProductStockCode,
  nonProductStockCodes,
  OnlineRetailMapper,
  type OnlineRetailStats,
} from '../ingest/online-retail.js';
import type { RecoEvent } from './evaluate.js';

export interface OnlineRetailInput {
  path: string;
  events: RecoEvent[];
  stats: OnlineRetailStats;
  /** Refund events the model does not use. */
  refundsIgnored: number;
  nonProduct: {
    /** The ingest's `non_product` skips (rows of customers, that would otherwise be events). */
    rows: number;
    /** Those rows by stock code as written, most rows first. */
    byCode: Array<{ code: string; rows: number }>;
    /** The ingest's list of non-product codes (plus any `gift_*` code). */
    listed: readonly string[];
  };
}

/** A file, a directory holding `online-retail.csv.gz`, or a directory of per-day CSV files. */
export async function resolveOnlineRetailPath(path: string): Promise<string> {
  if (!(await stat(path)).isDirectory()) return path;
  const joined = join(path, 'online-retail.csv.gz');
  return (await stat(joined).catch(() => null))?.isFile() ? joined : path;
}

/**
 * Reads rows through the ingest's mapper, as `onlineRetailEvents` does, and attributes
 * each `non_product` skip to its stock code (the mapper's skip counter is read after every
 * row with such a code, so the per-code counts add up to the ingest's own total).
 */
export async function loadOnlineRetail(path: string): Promise<OnlineRetailInput> {
  const file = await resolveOnlineRetailPath(path);
  const mapper = new OnlineRetailMapper();
  const events: RecoEvent[] = [];
  const byCode = new Map<string, number>();
  let nonProductSeen = 0;
  let refundsIgnored = 0;
  for await (const row of readCsvRecords(file)) {
    const e = mapper.map(row);
    if (e === null) {
      const code = (row.StockCode ?? '').trim();
      if (!isNonProductStockCode(code)) continue;
      const now = mapper.stats().skipped.non_product ?? 0;
      if (now > nonProductSeen) byCode.set(code, (byCode.get(code) ?? 0) + now - nonProductSeen);
      nonProductSeen = now;
      continue;
    }
    if (e.type === 'refund') refundsIgnored++;
    if (e.type !== 'purchase' || e.itemId === null) continue;
    events.push({ eventId: e.eventId, memberId: e.userId, itemId: e.itemId, category: e.category, at: e.occurredAt });
  }
  const stats = mapper.stats();
  return {
    path: file,
    events,
    stats,
    refundsIgnored,
    nonProduct: {
      rows: stats.skipped.non_product ?? 0,
      byCode: [...byCode.entries()]
        .map(([code, rows]) => ({ code, rows }))
        .sort((a, b) => b.rows - a.rows || (a.code < b.code ? -1 : a.code > b.code ? 1 : 0)),
      listed: nonProductStockCodes,
    },
  };
}
