/**
 * CSV reading (RFC 4180, through csv-parse): quoted fields may hold commas, doubled quotes and
 * line breaks; LF or CRLF endings; a byte-order mark is dropped; `.csv` or gzip'd `.csv.gz`, or
 * a directory of such files read in name order. Lenient where real exports are sloppy: a quote
 * inside an unquoted field (`5 1/2" tin`) is kept as text.
 */
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createGunzip } from 'node:zlib';
import { parse } from 'csv-parse';
import { parse as parseSync } from 'csv-parse/sync';

/** The one setting set memberflow reads CSV with. */
const options = { bom: true, relax_quotes: true } as const;

/** What went wrong, without quoting the data (csv-parse's own texts may). */
function csvErrorText(err: unknown): string {
  const e = err as { code?: string; lines?: number; record?: unknown[]; columns?: unknown[] };
  if (e.code === 'CSV_QUOTE_NOT_CLOSED') return `${e.lines ?? '?'}: unterminated quoted field`;
  if (e.code === 'CSV_RECORD_INCONSISTENT_COLUMNS')
    return `${e.lines ?? '?'}: ${e.record?.length ?? '?'} fields, header has ${e.columns?.length ?? '?'}`;
  return `${e.lines ?? '?'}: ${e.code ?? 'unreadable CSV'}`;
}

/** The fields of one CSV line. Throws on an unterminated quoted field. */
export function parseCsvLine(line: string): string[] {
  try {
    return parseSync(line, options)[0] ?? [''];
  } catch (err) {
    // eslint-disable-next-line preserve-caught-error -- csv-parse's error may quote the data; csvErrorText keeps it out
    throw new Error(`line ${csvErrorText(err)}`);
  }
}

/** The data files a path stands for: itself, or a directory's `*.csv`/`*.csv.gz` sorted by name. */
export async function csvFiles(path: string): Promise<string[]> {
  if (!(await stat(path)).isDirectory()) return [path];
  const names = (await readdir(path)).filter((n) => /\.csv(\.gz)?$/i.test(n));
  names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return names.map((n) => join(path, n));
}

/**
 * Records keyed by each file's own header line. Blank lines are skipped; a record whose field
 * count differs from the header's throws (silent misalignment would corrupt data), naming the
 * file and the line.
 */
export async function* readCsvRecords(path: string): AsyncGenerator<Record<string, string>> {
  for (const file of await csvFiles(path)) {
    const raw = createReadStream(file);
    const input = /\.gz$/i.test(file) ? raw.pipe(createGunzip()) : raw;
    raw.on('error', (err) => input.destroy(err));
    const records = input.pipe(parse({ ...options, columns: true, skip_empty_lines: true }));
    input.on('error', (err: Error) => records.destroy(err));
    try {
      for await (const record of records) yield record as Record<string, string>;
    } catch (err) {
      // eslint-disable-next-line preserve-caught-error -- csv-parse's error may quote the data; csvErrorText keeps it out
      throw new Error(`${file}:${csvErrorText(err)}`);
    } finally {
      records.destroy();
      input.destroy();
      raw.destroy();
    }
  }
}
