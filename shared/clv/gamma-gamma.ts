// Gamma-Gamma model of spend per transaction and the discounted customer lifetime value.
// Fader, Hardie & Lee (2005), "RFM and CLV: Using Iso-Value Curves for Customer Base Analysis",
// JMR 42(4); Fader & Hardie (2013), "The Gamma-Gamma Model of Monetary Value" (brucehardie.com note 025).
// A member's transaction values are Gamma(p, ν) with ν ~ Gamma(q, v) across members; the mean
// zbar of x transactions is then Gamma(px, νx), which gives the likelihood below.

import { expectedPurchases, type CountModel, type CountParams, type Rfm } from './count-models.js';
import { minimizeWithRestarts } from './optimize.js';
import { lgamma } from './special.js';

export interface SpendParams {
  p: number;
  q: number;
  v: number;
}

/** x repeat purchases and zbar, their mean spend. */
export interface SpendSummary {
  x: number;
  zbar: number;
}

export interface SpendFit {
  params: SpendParams;
  logLikelihood: number;
  iterations: number;
  converged: boolean;
  members: number;
}

export interface LifetimeValueOptions {
  /** Horizon in months. */
  months: number;
  /** Discount rate per month, e.g. 0.01. */
  monthlyDiscountRate: number;
  /** Model time units per month: e.g. 4.345 for weeks, 30.4375 for days (lifetimes uses 30). */
  unitsPerMonth: number;
}

function checkSpendParams(p: SpendParams): void {
  for (const key of ['p', 'q', 'v'] as const) {
    const value = p[key];
    if (!(Number.isFinite(value) && value > 0))
      throw new RangeError(`spend parameter ${key}=${value} must be finite and > 0`);
  }
}

/**
 * The likelihood needs zbar > 0 (spend is gamma distributed); the posterior mean is also defined
 * for zbar = 0 (repeat purchases that were all free), so expectations accept it (`allowZero`).
 */
function checkSummary(m: SpendSummary, allowZero = false): void {
  if (!(Number.isInteger(m.x) && m.x >= 0)) throw new RangeError(`frequency x=${m.x} must be a non-negative integer`);
  if (m.x > 0 && !(Number.isFinite(m.zbar) && (m.zbar > 0 || (allowZero && m.zbar === 0)))) {
    throw new RangeError(`mean spend zbar=${m.zbar} must be finite and > 0 when x > 0`);
  }
}

/** ln f(zbar | p, q, v, x) = ln[Γ(px+q)/(Γ(px)Γ(q)) · v^q x^(px) zbar^(px−1) / (v + x zbar)^(px+q)]. */
function memberSpendLogLikelihood(params: SpendParams, m: SpendSummary): number {
  const { p, q, v } = params;
  const px = p * m.x;
  return (
    lgamma(px + q) -
    lgamma(px) -
    lgamma(q) +
    q * Math.log(v) +
    px * Math.log(m.x) +
    (px - 1) * Math.log(m.zbar) -
    (px + q) * Math.log(v + m.x * m.zbar)
  );
}

/** Total log-likelihood of the mean spends; members with x = 0 carry no spend data and are skipped. */
export function spendLogLikelihood(p: SpendParams, members: readonly SpendSummary[]): number {
  checkSpendParams(p);
  let sum = 0;
  for (const m of members) {
    checkSummary(m);
    if (m.x > 0) sum += memberSpendLogLikelihood(p, m);
  }
  return sum;
}

/** Maximum likelihood for (p, q, v) on the x > 0 members, by restarted Nelder–Mead on log-parameters. */
export function fitGammaGamma(members: readonly SpendSummary[]): SpendFit {
  const buyers: SpendSummary[] = [];
  for (const m of members) {
    checkSummary(m);
    if (m.x > 0) buyers.push({ x: m.x, zbar: m.zbar });
  }
  if (buyers.length === 0) throw new RangeError('fitGammaGamma: no members with x > 0');
  const fromLog = (w: number[]): SpendParams => ({
    p: Math.exp(w[0] as number),
    q: Math.exp(w[1] as number),
    v: Math.exp(w[2] as number),
  });
  const objective = (w: number[]): number => {
    const params = fromLog(w);
    if (![params.p, params.q, params.v].every((y) => Number.isFinite(y) && y > 0)) return Infinity;
    let ll = 0;
    for (const m of buyers) ll += memberSpendLogLikelihood(params, m);
    return -ll / buyers.length;
  };
  // Start at p = q = 1 and v = mean spend, which puts the starting scale in the data's currency.
  const meanSpend = buyers.reduce((s, m) => s + m.zbar, 0) / buyers.length;
  const result = minimizeWithRestarts(objective, [0, 0, Math.log(meanSpend)]);
  const params = fromLog(result.x);
  let logLik = 0;
  for (const m of buyers) logLik += memberSpendLogLikelihood(params, m);
  return {
    params,
    logLikelihood: logLik,
    iterations: result.iterations,
    converged: result.converged,
    members: buyers.length,
  };
}

/**
 * E[M | x, zbar] = p(v + x zbar) / (px + q − 1): the posterior mean spend per transaction
 * (FHL 2005 "RFM and CLV"; note 025): a weighted average of the population mean pv/(q−1) and zbar.
 */
export function expectedAverageSpend(p: SpendParams, m: SpendSummary): number {
  checkSpendParams(p);
  checkSummary(m, true);
  const denominator = p.p * m.x + p.q - 1;
  if (!(denominator > 0))
    throw new RangeError(`expected spend is infinite: need px + q > 1 (p=${p.p}, q=${p.q}, x=${m.x})`);
  const zbar = m.x > 0 ? m.zbar : 0;
  return (p.p * (p.v + m.x * zbar)) / denominator;
}

/**
 * Discounted expected value of the next `months` months, as lifetimes' customer_lifetime_value:
 * Σ_{i=1..months} (E[X(T, T+i·u)] − E[X(T, T+(i−1)·u)]) · E[M | x, zbar] / (1 + d)^i, u = unitsPerMonth.
 */
export function lifetimeValue(
  model: CountModel,
  count: CountParams,
  spend: SpendParams,
  m: Rfm & SpendSummary,
  o: LifetimeValueOptions,
): number {
  if (!(Number.isInteger(o.months) && o.months >= 0))
    throw new RangeError(`months=${o.months} must be a non-negative integer`);
  if (!(Number.isFinite(o.monthlyDiscountRate) && o.monthlyDiscountRate > -1)) {
    throw new RangeError(`monthlyDiscountRate=${o.monthlyDiscountRate} must be > -1`);
  }
  if (!(Number.isFinite(o.unitsPerMonth) && o.unitsPerMonth > 0))
    throw new RangeError(`unitsPerMonth=${o.unitsPerMonth} must be > 0`);
  const spendPerPurchase = expectedAverageSpend(spend, m);
  const rfm: Rfm = { x: m.x, tx: m.tx, T: m.T };
  let value = 0;
  let previous = 0;
  for (let i = 1; i <= o.months; i++) {
    const cumulative = expectedPurchases(model, count, rfm, i * o.unitsPerMonth);
    value += ((cumulative - previous) * spendPerPurchase) / (1 + o.monthlyDiscountRate) ** i;
    previous = cumulative;
  }
  return value;
}
