import {
  expectedPurchases,
  fitCountModel,
  logLikelihood,
  pAlive,
  type CountModel,
} from '../../shared/clv/count-models.js';
import { fitGammaGamma, spendLogLikelihood } from '../../shared/clv/gamma-gamma.js';
import { countPurchaseDays, summarize } from '../../shared/clv/summary.js';
import { parseIsoDay, type Transaction } from '../../shared/clv/transactions.js';
import type { ChurnModelParams, Rules } from '../../shared/config/rules.js';
import { scoringModel } from '../../shared/clv/score.js';
import { bandOf, bands } from '../../services/churn-prediction/bands.js';
import { loadTransactions } from './churn-summarize.js';

export interface ValidateOptions {
  format: 'cdnow' | 'online-retail';
  file: string;
  /** Last calibration day and last holdout day, YYYY-MM-DD, inclusive. */
  calibrationEnd: string;
  holdoutEnd: string;
  model: CountModel;
  unit: 'weeks' | 'days';
  timeZone: string;
  /** Score with these parameters (e.g. the ones in force) instead of fitting on the calibration period. */
  params?: ChurnModelParams;
}

export interface ValidationReport {
  data: {
    format: string;
    calibrationEnd: string;
    holdoutEnd: string;
    unit: string;
    holdoutLength: number;
    members: number;
  };
  /** fitted: ML on the calibration period; given: the parameters passed in (version named). */
  fit: {
    source: 'fitted' | 'given';
    version?: string;
    model: CountModel;
    r: number;
    alpha: number;
    a: number;
    b: number;
    logLikelihood: number;
    spend: { p: number; q: number; v: number; logLikelihood: number } | null;
  };
  holdout: {
    actualPurchases: number;
    predictedPurchases: number;
    /** predicted / actual. */
    ratio: number;
    /** Pearson correlation, per member, of predicted and actual holdout purchases. */
    correlation: number;
    meanAbsoluteError: number;
    /** Conditional expectations by calibration frequency, as in the BG/NBD paper's figure 4. */
    byFrequency: { frequency: string; members: number; actualMean: number; predictedMean: number }[];
  };
  bands: {
    thresholds: Rules['churn']['bands'];
    /** Per band at the calibration end: members, and who bought again in the holdout. */
    byBand: { band: string; members: number; share: number; boughtAgain: number; repurchaseRate: number }[];
    /** Repurchase rate of the low band over the high band: how much better the low band's odds are. */
    repurchaseLiftLowOverHigh: number | null;
    /** Share not buying again in the high band over the low band: how concentrated the lost members are in the high band. */
    churnLiftHighOverLow: number | null;
    /** Probability that a random repurchaser has a higher P(alive) than a random non-repurchaser (ROC AUC). */
    aucPAlive: number;
    /** The same for expected purchases in the holdout: useful when P(alive) barely varies. */
    aucExpectedPurchases: number;
  };
}

/**
 * Fits on a calibration period and checks the predictions against what members
 * actually did in the following holdout period: total and per-member purchase
 * counts (CDNOW, as in Fader, Hardie & Lee 2005), and whether the risk bands
 * separate those who came back from those who did not.
 */
export async function churnValidate(o: ValidateOptions, rules: Rules): Promise<ValidationReport> {
  const calEnd = parseIsoDay(o.calibrationEnd);
  const holdEnd = parseIsoDay(o.holdoutEnd);
  if (holdEnd <= calEnd) throw new Error('--holdout-end must be after --calibration-end');
  const all: Transaction[] = await loadTransactions(o.format, o.file, holdEnd, o.timeZone);
  const perUnit = o.unit === 'weeks' ? 7 : 1;
  const summary = summarize(all, calEnd);
  const rfms = summary.map((m) => ({ x: m.x, tx: m.txDays / perUnit, T: m.TDays / perUnit }));
  const spenders = summary.filter((m) => m.x > 0).map((m) => ({ x: m.x, zbar: m.repeatSpendCents / m.x / 100 }));
  const given = o.params ? scoringModel(o.params, o.unit) : null;
  const model = given?.model ?? o.model;
  const count = given
    ? { params: given.count, logLikelihood: logLikelihood(given.model, given.count, rfms) }
    : fitCountModel(o.model, rfms);
  const spend = given
    ? given.spend
      ? { params: given.spend, logLikelihood: spendLogLikelihood(given.spend, spenders) }
      : null
    : spenders.length > 2
      ? fitGammaGamma(spenders)
      : null;
  const horizon = (holdEnd - calEnd) / perUnit;
  const actualById = countPurchaseDays(all, calEnd + 1, holdEnd);
  const actual = summary.map((m) => actualById.get(m.id) ?? 0);
  const predicted = rfms.map((r) => expectedPurchases(model, count.params, r, horizon));
  const alive = rfms.map((r) => pAlive(model, count.params, r));
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

  const groups = new Map<string, { n: number; a: number; p: number }>();
  summary.forEach((m, i) => {
    const key = m.x >= 7 ? '7+' : String(m.x);
    const g = groups.get(key) ?? { n: 0, a: 0, p: 0 };
    groups.set(key, { n: g.n + 1, a: g.a + actual[i]!, p: g.p + predicted[i]! });
  });
  const byFrequency = [...groups.entries()]
    .sort(([x], [y]) => (x === '7+' ? 1 : y === '7+' ? -1 : Number(x) - Number(y)))
    .map(([frequency, g]) => ({ frequency, members: g.n, actualMean: g.a / g.n, predictedMean: g.p / g.n }));

  const byBand = bands.map((band) => {
    const idx = alive
      .map((p, i) => [p, i] as const)
      .filter(([p]) => bandOf(p, rules.churn.bands) === band)
      .map(([, i]) => i);
    const boughtAgain = idx.filter((i) => actual[i]! > 0).length;
    return {
      band,
      members: idx.length,
      share: idx.length / summary.length,
      boughtAgain,
      repurchaseRate: idx.length ? boughtAgain / idx.length : 0,
    };
  });
  const low = byBand.find((b) => b.band === 'low')!;
  const high = byBand.find((b) => b.band === 'high')!;
  return {
    data: {
      format: o.format,
      calibrationEnd: o.calibrationEnd,
      holdoutEnd: o.holdoutEnd,
      unit: o.unit,
      holdoutLength: horizon,
      members: summary.length,
    },
    fit: {
      source: given ? 'given' : 'fitted',
      ...(o.params ? { version: o.params.version } : {}),
      model,
      ...count.params,
      logLikelihood: count.logLikelihood,
      spend: spend ? { ...spend.params, logLikelihood: spend.logLikelihood } : null,
    },
    holdout: {
      actualPurchases: sum(actual),
      predictedPurchases: sum(predicted),
      ratio: sum(predicted) / sum(actual),
      correlation: pearson(predicted, actual),
      meanAbsoluteError: sum(predicted.map((p, i) => Math.abs(p - actual[i]!))) / summary.length,
      byFrequency,
    },
    bands: {
      thresholds: rules.churn.bands,
      byBand,
      repurchaseLiftLowOverHigh:
        low.members && high.members && high.repurchaseRate > 0 ? low.repurchaseRate / high.repurchaseRate : null,
      churnLiftHighOverLow:
        low.members && high.members && low.repurchaseRate < 1
          ? (1 - high.repurchaseRate) / (1 - low.repurchaseRate)
          : null,
      aucPAlive: auc(
        alive,
        actual.map((a) => a > 0),
      ),
      aucExpectedPurchases: auc(
        predicted,
        actual.map((a) => a > 0),
      ),
    },
  };
}

export function pearson(xs: readonly number[], ys: readonly number[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = xs[i]! - mx;
    const dy = ys[i]! - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  return sxy / Math.sqrt(sxx * syy);
}

/** ROC AUC by ranks (Mann-Whitney), ties counted half. */
export function auc(scores: readonly number[], positive: readonly boolean[]): number {
  const order = scores.map((s, i) => [s, i] as const).sort((a, b) => a[0] - b[0]);
  let rankSumPositive = 0;
  let positives = 0;
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j + 1 < order.length && order[j + 1]![0] === order[i]![0]) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) {
      if (positive[order[k]![1]]) {
        rankSumPositive += rank;
        positives++;
      }
    }
    i = j + 1;
  }
  const negatives = order.length - positives;
  return (rankSumPositive - (positives * (positives + 1)) / 2) / (positives * negatives);
}
