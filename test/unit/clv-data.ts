// Loads the gzip-compressed CDNOW summaries in data/cdnow (copies of lifetimes' datasets; see
// data/cdnow/README.md). Weeks are the time unit.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

export interface CdnowMember {
  id: number;
  x: number;
  tx: number;
  T: number;
}

export interface CdnowSpendMember extends CdnowMember {
  zbar: number;
}

function readCsv(file: string, header: string): number[][] {
  const text = gunzipSync(readFileSync(new URL(`../../data/cdnow/${file}`, import.meta.url))).toString('utf8');
  const lines = text.split(/\r?\n/).filter((line) => line.length > 0);
  if (lines[0] !== header) throw new Error(`${file}: expected header '${header}', got '${lines[0]}'`);
  return lines.slice(1).map((line, i) => {
    const fields = line.split(',').map(Number);
    if (fields.some((v) => !Number.isFinite(v))) throw new Error(`${file}: bad row ${i + 2}: '${line}'`);
    return fields;
  });
}

/** cdnow_customers_summary.csv: ID, frequency (x), recency (t_x), T. */
export function loadCdnowSummary(): CdnowMember[] {
  return readCsv('cdnow_customers_summary.csv.gz', 'ID,frequency,recency,T').map(([id, x, tx, T]) => ({
    id: id as number,
    x: x as number,
    tx: tx as number,
    T: T as number,
  }));
}

/** cdnow_customers_summary_with_transactions.csv: ID, x, t_x, T, zbar (mean repeat spend, US$). */
export function loadCdnowSummaryWithSpend(): CdnowSpendMember[] {
  return readCsv('cdnow_customers_summary_with_transactions.csv.gz', 'ID,x,t_x,T,zbar').map(([id, x, tx, T, zbar]) => ({
    id: id as number,
    x: x as number,
    tx: tx as number,
    T: T as number,
    zbar: zbar as number,
  }));
}
