import { stat } from 'node:fs/promises';
import { InvalidArgumentError } from 'commander';
import { ConfigError } from '../../shared/config/env.js';
import {
  defaultModelParams,
  evaluateRecommendations,
  unbounded,
  type EvaluationResult,
  type ModelParams,
} from '../../shared/reco/evaluate.js';
import { loadOnlineRetail, type OnlineRetailInput } from '../../shared/reco/online-retail.js';
import { similarityNames, type SimilarityName } from '../../shared/reco/similarity.js';

/** The K values and R values `--sweep` compares (K unbounded last). */
export { defaultModelParams, similarityNames, type SimilarityName };

export const sweepCoItemBounds: readonly number[] = [10, 25, 50, 100, 200, unbounded];
export const sweepRecentBounds: readonly number[] = [5, 10, 20, 50];

export interface RecoEvaluateOptions {
  /** As given on the command line: checked to be 'online-retail'. */
  format: string;
  /** A `.csv`/`.csv.gz` file, a directory holding `online-retail.csv.gz`, or a directory of per-day CSV files. */
  file: string;
  /** N: length of each recommendation list. */
  top: number;
  /** The similarity the bound sweeps use (all four are compared in the main pass). */
  similarity: SimilarityName;
  /** K: co-items kept per item (`unbounded` for no bound). */
  coItems: number;
  /** R: recent items that are paired with a new item and drive scoring. */
  recent: number;
  sweep: boolean;
}

export interface RecoEvaluateReport {
  command: {
    format: 'online-retail';
    file: string;
    top: number;
    similarity: SimilarityName;
    coItems: number | null;
    recent: number;
    owned: number;
    sweep: boolean;
  };
  input: {
    path: string;
    rows: number;
    purchaseEvents: number;
    refundsIgnored: number;
    skipped: OnlineRetailInput['stats']['skipped'];
    nonProduct: { rows: number; byCode: Array<{ code: string; rows: number }>; listedButAbsent: string[] };
    loadSeconds: number;
  };
  evaluation: EvaluationResult;
  seconds: number;
}

/** `--co-items`: a positive integer, or `inf` / `unbounded` for no bound. */
export function parseCoItems(v: string): number {
  const text = v.trim().toLowerCase();
  if (text === 'inf' || text === 'infinity' || text === 'unbounded') return unbounded;
  const n = Number(text);
  if (text === '' || !Number.isSafeInteger(n) || n <= 0)
    throw new InvalidArgumentError('expected a positive integer or inf');
  return n;
}

const round = (x: number, digits: number): number => Number(x.toFixed(digits));

/**
 * Leave-last-basket-out evaluation on Online Retail: all four similarities and the
 * popularity baseline in one pass, and with `sweep` the per-item bound K and the
 * recent-items bound R (each with the chosen similarity).
 */
export async function recoEvaluate(o: RecoEvaluateOptions): Promise<RecoEvaluateReport> {
  const started = performance.now();
  if (o.format !== 'online-retail') throw new ConfigError(`--format must be online-retail, got ${o.format}`);
  if (!Number.isSafeInteger(o.top) || o.top <= 0)
    throw new ConfigError(`--top must be a positive integer, got ${o.top}`);
  if (!(o.coItems >= 1)) throw new ConfigError(`--co-items must be a positive integer or inf, got ${o.coItems}`);
  const owned = defaultModelParams.member.owned;
  if (!Number.isSafeInteger(o.recent) || o.recent <= 0 || o.recent > owned)
    throw new ConfigError(`--recent must be an integer from 1 to ${owned} (the owned-items bound), got ${o.recent}`);
  const found = await stat(o.file).catch((err: unknown) => {
    const { code, message } = err as NodeJS.ErrnoException;
    throw new ConfigError(`cannot read --file ${o.file}: ${code === 'ENOENT' ? 'no such file or directory' : message}`);
  });
  if (!found.isFile() && !found.isDirectory()) throw new ConfigError(`--file ${o.file} is not a file or directory`);

  const input = await loadOnlineRetail(o.file);
  const loadSeconds = round((performance.now() - started) / 1000, 1);
  if (input.events.length === 0)
    throw new ConfigError(`${input.path} holds no Online Retail purchases (read ${input.stats.rows} rows)`);

  const params: ModelParams = {
    ...defaultModelParams,
    similarity: o.similarity,
    coItems: o.coItems,
    member: { ...defaultModelParams.member, recent: o.recent },
  };
  const evaluation = evaluateRecommendations(input.events, {
    top: o.top,
    params,
    similarities: [...similarityNames],
    ...(o.sweep ? { coItemBounds: [...sweepCoItemBounds], recentBounds: [...sweepRecentBounds] } : {}),
  });
  const seen = new Set(input.nonProduct.byCode.map((c) => c.code.toUpperCase()));
  return {
    command: {
      format: o.format,
      file: o.file,
      top: o.top,
      similarity: o.similarity,
      coItems: Number.isFinite(o.coItems) ? o.coItems : null,
      recent: o.recent,
      owned,
      sweep: o.sweep,
    },
    input: {
      path: input.path,
      rows: input.stats.rows,
      purchaseEvents: input.events.length,
      refundsIgnored: input.refundsIgnored,
      skipped: input.stats.skipped,
      nonProduct: {
        rows: input.nonProduct.rows,
        byCode: input.nonProduct.byCode,
        listedButAbsent: input.nonProduct.listed.filter((c) => !seen.has(c.toUpperCase())),
      },
      loadSeconds,
    },
    evaluation,
    seconds: round((performance.now() - started) / 1000, 1),
  };
}

/** A plain-text table: a header row, a rule, then rows; numbers right-aligned. */
export function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!)))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

const fixed = (x: number, digits: number): string => (Number.isFinite(x) ? x.toFixed(digits) : 'n/a');
const percent = (x: number): string => (Number.isFinite(x) ? `${(x * 100).toFixed(1)}%` : 'n/a');
const times = (x: number): string => (Number.isFinite(x) ? `${x.toFixed(2)}x` : 'n/a');
const kName = (k: number | null): string => (k === null ? 'unbounded' : String(k));

/** The report as readable tables. */
export function formatRecoEvaluation(r: RecoEvaluateReport): string {
  const e = r.evaluation;
  const n = e.top;
  const pop = e.main.popularity;
  const out: string[] = [];
  out.push(`Online Retail: ${r.input.path}`);
  out.push(
    `  rows ${r.input.rows}, purchase events ${r.input.purchaseEvents} (refunds ignored: ` +
      `${r.input.refundsIgnored}), members ${e.members.total}, items ${e.items}`,
  );
  out.push(
    `  members with baskets at two or more instants ${e.members.withTwoBaskets}; evaluated at their last ` +
      `basket ${e.members.evaluated} (last basket held no new item: ${e.members.noNewItems})`,
  );
  out.push(
    `  model: top N = ${n}, K = ${kName(r.command.coItems)} co-items per item, R = ${r.command.recent} ` +
      `recent items, O = ${r.command.owned} owned items; sweeps use ${r.command.similarity}`,
  );
  out.push('');
  out.push(`Similarities (main pass, K = ${kName(r.command.coItems)}, R = ${r.command.recent})`);
  const simRows = e.similarity.map((s) => [
    s.similarity,
    String(e.members.total),
    String(e.main.evaluated),
    fixed(s.hitRate, 4),
    fixed(s.recall, 4),
    percent(s.coverage),
    fixed(s.meanPopularityRank, 1),
    times(s.ratioToPopularity),
  ]);
  simRows.push([
    'popularity',
    String(e.members.total),
    String(e.main.evaluated),
    fixed(pop.hitRate, 4),
    fixed(pop.recall, 4),
    percent(pop.coverage),
    fixed(pop.meanPopularityRank, 1),
    times(1),
  ]);
  out.push(
    table(
      [
        'similarity',
        'members',
        'evaluated',
        `hit@${n}`,
        `recall@${n}`,
        'coverage',
        'mean pop rank',
        'hit vs popularity',
      ],
      simRows,
    ),
  );
  const best = [...e.similarity].sort((a, b) => b.hitRate - a.hitRate)[0];
  if (best)
    out.push(
      `best hit rate: ${best.similarity} ${fixed(best.hitRate, 4)}, ${times(best.ratioToPopularity)} the popularity baseline's ${fixed(pop.hitRate, 4)}`,
    );
  const m = e.main.model;
  out.push(
    `model at the end (K = ${kName(r.command.coItems)}): ${m.items} items, ${m.storedCoItems} stored ` +
      `co-items (largest list ${m.largestList}), ${m.evictions} evictions on ${m.itemsEvicting} items; ` +
      `items recounted after the owned list forgot them: ${e.main.recountedItems}`,
  );
  out.push(`main pass ${e.main.seconds} s (${e.similarity.length} similarities and the baseline scored)`);
  if (e.coItemBound.length > 0) {
    out.push('');
    out.push(`Per-item bound K (${r.command.similarity}, R = ${r.command.recent})`);
    out.push(
      table(
        ['K', `hit@${n}`, `recall@${n}`, 'coverage', 'stored co-items', 'largest list', 'evictions', 'seconds'],
        e.coItemBound.map((b) => [
          kName(b.coItems),
          fixed(b.hitRate, 4),
          fixed(b.recall, 4),
          percent(b.coverage),
          String(b.storedCoItems),
          String(b.largestList),
          String(b.evictions),
          fixed(b.seconds, 1),
        ]),
      ),
    );
  }
  if (e.recentBound.length > 0) {
    out.push('');
    out.push(`Recent items R (${r.command.similarity}, K = ${kName(r.command.coItems)})`);
    out.push(
      table(
        ['R', `hit@${n}`, `recall@${n}`, 'coverage', 'stored co-items', 'seconds'],
        e.recentBound.map((b) => [
          String(b.recent),
          fixed(b.hitRate, 4),
          fixed(b.recall, 4),
          percent(b.coverage),
          String(b.storedCoItems),
          fixed(b.seconds, 1),
        ]),
      ),
    );
  }
  out.push('');
  out.push(`Non-product stock codes excluded (${r.input.nonProduct.rows} rows of customers)`);
  out.push(
    table(
      ['stock code', 'rows'],
      r.input.nonProduct.byCode.map((c) => [c.code, String(c.rows)]),
    ),
  );
  if (r.input.nonProduct.listedButAbsent.length > 0)
    out.push(`listed but not met in rows of customers: ${r.input.nonProduct.listedButAbsent.join(', ')}`);
  out.push('');
  out.push(`loading ${r.input.loadSeconds} s, evaluation ${e.seconds} s, total ${r.seconds} s`);
  return `${out.join('\n')}\n`;
}

/** JSON with non-finite numbers (an undefined ratio) as null. */
export function recoEvaluationJson(r: RecoEvaluateReport): string {
  return `${JSON.stringify(r, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`;
}
