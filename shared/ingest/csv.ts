/**
 * Minimal RFC 4180 CSV reading: one record per line (quoted fields may hold
 * commas and doubled quotes, but not line breaks), LF or CRLF endings,
 * `.csv` or gzip'd `.csv.gz`, or a directory of such files read in name order.
 */
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';

/** The fields of one CSV line. Throws on an unterminated quoted field. */
export function parseCsvLine(line: string): string[] {
  const text = line.endsWith('\r') ? line.slice(0, -1) : line;
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    if (text[i] === '"') {
      let value = '';
      i++;
      for (;;) {
        const close = text.indexOf('"', i);
        if (close < 0) throw new Error(`unterminated quoted field at column ${i}`);
        value += text.slice(i, close);
        if (text[close + 1] === '"') {
          value += '"';
          i = close + 2;
        } else {
          i = close + 1;
          break;
        }
      }
      // Be lenient about text between the closing quote and the next comma: keep it.
      const comma = text.indexOf(',', i);
      const end = comma < 0 ? text.length : comma;
      fields.push(value + text.slice(i, end));
      if (comma < 0) return fields;
      i = comma + 1;
    } else {
      const comma = text.indexOf(',', i);
      if (comma < 0) {
        fields.push(text.slice(i));
        return fields;
      }
      fields.push(text.slice(i, comma));
      i = comma + 1;
    }
  }
}

/** The data files a path stands for: itself, or a directory's `*.csv`/`*.csv.gz` sorted by name. */
export async function csvFiles(path: string): Promise<string[]> {
  if (!(await stat(path)).isDirectory()) return [path];
  const names = (await readdir(path)).filter((n) => /\.csv(\.gz)?$/i.test(n));
  names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return names.map((n) => join(path, n));
}

async function* readLines(file: string): AsyncGenerator<string> {
  const raw = createReadStream(file);
  const input = /\.gz$/i.test(file) ? raw.pipe(createGunzip()) : raw;
  raw.on('error', (err) => input.destroy(err));
  const lines = createInterface({ input, crlfDelay: Infinity });
  try {
    yield* lines;
  } finally {
    lines.close();
    input.destroy();
    raw.destroy();
  }
}

/**
 * Records keyed by each file's own header line. Blank lines are skipped; a line
 * whose field count differs from the header's throws (silent misalignment would corrupt data).
 */
export async function* readCsvRecords(path: string): AsyncGenerator<Record<string, string>> {
  for (const file of await csvFiles(path)) {
    let header: string[] | null = null;
    let lineNo = 0;
    for await (const line of readLines(file)) {
      lineNo++;
      if (line === '' || line === '\r') continue;
      let fields: string[];
      try {
        fields = parseCsvLine(header === null ? line.replace(/^\uFEFF/, '') : line);
      } catch (err) {
        throw new Error(`${file}:${lineNo}: ${(err as Error).message}`);
      }
      if (header === null) {
        header = fields;
        continue;
      }
      if (fields.length !== header.length) {
        throw new Error(`${file}:${lineNo}: ${fields.length} fields, header has ${header.length}`);
      }
      const record: Record<string, string> = {};
      for (let k = 0; k < header.length; k++) record[header[k]!] = fields[k]!;
      yield record;
    }
  }
}
