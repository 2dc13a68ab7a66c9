import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { churnModelSchema, type ChurnModelParams, type Rules } from '../../shared/config/rules.js';
import { ConfigError } from '../../shared/config/env.js';
import { fitCountModel, type CountModel } from '../../shared/clv/count-models.js';
import { fitGammaGamma } from '../../shared/clv/gamma-gamma.js';
import { scoreMember, scoringModel, type TimeUnit } from '../../shared/clv/score.js';
import { parseSummaryCsv, type SummaryRow } from '../../shared/clv/summary.js';
import { bandOf } from '../../services/churn-prediction/bands.js';

/** What `memberflow churn fit` prints: usable as is as `churn.model` in the rules file (extra fields are ignored there). */
export interface FitReport extends ChurnModelParams {
  logLikelihood: number;
  members: number;
  converged: boolean;
  iterations: number;
  spendFit: { logLikelihood: number; members: number; converged: boolean; iterations: number } | null;
}

export async function readSummary(path: string): Promise<SummaryRow[]> {
  return parseSummaryCsv(await readFile(path, 'utf8'));
}

export interface FitOptions {
  summary: string;
  model: CountModel;
  spend: boolean;
  /** Unit of recency and T in the summary (and so of the fitted alpha). */
  unit: TimeUnit;
  version?: string;
}

/** Maximum-likelihood fit of the count model (and Gamma-Gamma with `spend`) on a summary CSV. */
export async function churnFit(o: FitOptions): Promise<FitReport> {
  const text = await readFile(o.summary, 'utf8');
  const rows = parseSummaryCsv(text);
  if (rows.length === 0) throw new ConfigError(`${o.summary} has no members`);
  const count = fitCountModel(
    o.model,
    rows.map((r) => ({ x: r.x, tx: r.tx, T: r.T })),
  );
  let spend: ChurnModelParams['spend'] = null;
  let spendFit: FitReport['spendFit'] = null;
  if (o.spend) {
    const spenders = rows.filter((r) => r.x > 0);
    if (spenders.some((r) => r.monetary === null))
      throw new ConfigError(`--spend needs a monetary column in ${o.summary}`);
    const g = fitGammaGamma(spenders.map((r) => ({ x: r.x, zbar: r.monetary! })));
    spend = g.params;
    spendFit = { logLikelihood: g.logLikelihood, members: g.members, converged: g.converged, iterations: g.iterations };
  }
  // Default version: the model and a hash of the data, so the same fit gets the same name.
  const version = o.version ?? `${o.model}-${o.unit}-${createHash('sha256').update(text).digest('hex').slice(0, 10)}`;
  return {
    version,
    model: o.model,
    unit: o.unit,
    ...count.params,
    spend,
    logLikelihood: count.logLikelihood,
    members: count.members,
    converged: count.converged,
    iterations: count.iterations,
    spendFit,
  };
}

export async function readParams(path: string): Promise<ChurnModelParams> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new ConfigError(`cannot read parameters ${path}: ${(err as Error).message}`);
  }
  // A rules file works too: its churn.model section.
  const candidate = (raw as { churn?: { model?: unknown } }).churn?.model ?? raw;
  const parsed = churnModelSchema.safeParse(candidate);
  if (!parsed.success) throw new ConfigError(`invalid parameters in ${path}: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

export interface ScoreOptions {
  params: string;
  summary: string;
  /** Horizon for expected purchases, in the summary's unit. */
  horizon: number;
  /** Unit of recency, T and horizon in the summary. */
  unit: TimeUnit;
}

export interface MemberScoreLine {
  id: string;
  frequency: number;
  recency: number;
  T: number;
  pAlive: number;
  band: string;
  expectedPurchases: number;
  expectedAverageSpend: number | null;
  lifetimeValue: number | null;
  modelVersion: string;
}

/** Scores every member of a summary with the same code path the stream worker uses. */
export async function* churnScore(o: ScoreOptions, rules: Rules): AsyncGenerator<MemberScoreLine> {
  const params = await readParams(o.params);
  const model = scoringModel(params, o.unit);
  for (const r of await readSummary(o.summary)) {
    const s = scoreMember(model, { x: r.x, tx: r.tx, T: r.T }, r.monetary ?? 0, {
      horizon: o.horizon,
      lifetimeValue: rules.churn.lifetimeValue,
    });
    yield {
      id: r.id,
      frequency: r.x,
      recency: r.tx,
      T: r.T,
      pAlive: s.pAlive,
      band: bandOf(s.pAlive, rules.churn.bands),
      expectedPurchases: s.expectedPurchases,
      expectedAverageSpend: s.expectedAverageSpend,
      lifetimeValue: s.lifetimeValue,
      modelVersion: params.version,
    };
  }
}
