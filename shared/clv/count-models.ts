// Repeat-purchase ("buy till you die") count models:
// - BG/NBD: Fader, Hardie & Lee (2005), "Counting Your Customers the Easy Way", Marketing Science 24(2).
// - MBG/NBD: Batislam, Denizel & Filiztekin (2007), IJRM 24(3); conditional expectation as in
//   Wagner & Hoppe (2008) and lifetimes' ModifiedBetaGeoFitter.
// Both: purchases while alive are Poisson(λ), λ ~ Gamma(r, α); after each repeat purchase (BG/NBD),
// or also right after the first purchase (MBG/NBD), the customer drops out with probability p,
// p ~ Beta(a, b). Everything is computed in log space; see README.md for the formulas.

import { minimizeWithRestarts } from './optimize.js';
import { hyp2f1Minus1, lbeta, lgamma, logAddExp } from './special.js';

export type CountModel = 'bgnbd' | 'mbgnbd';

export interface CountParams {
  r: number;
  alpha: number;
  a: number;
  b: number;
}

/** x repeat purchases (frequency), recency t_x, age T — in the same time unit as alpha. */
export interface Rfm {
  x: number;
  tx: number;
  T: number;
}

export interface CountFit {
  model: CountModel;
  params: CountParams;
  logLikelihood: number;
  iterations: number;
  converged: boolean;
  members: number;
}

// ---------------------------------------------------------------------------------------------
// Validation

/** Typed as a string: callers pass what a CLI flag or a stored fit said, which the type cannot vouch for. */
function checkModel(model: string): void {
  if (model !== 'bgnbd' && model !== 'mbgnbd') throw new RangeError(`unknown count model '${model}'`);
}

function checkParams(p: CountParams): void {
  for (const key of ['r', 'alpha', 'a', 'b'] as const) {
    const v = p[key];
    if (!(Number.isFinite(v) && v > 0))
      throw new RangeError(`count model parameter ${key}=${v} must be finite and > 0`);
  }
}

function checkRfm(m: Rfm): void {
  const { x, tx, T } = m;
  if (!(Number.isInteger(x) && x >= 0)) throw new RangeError(`frequency x=${x} must be a non-negative integer`);
  if (!(Number.isFinite(T) && Number.isFinite(tx) && tx >= 0 && tx <= T)) {
    throw new RangeError(`need 0 ≤ recency ≤ T, got tx=${tx}, T=${T}`);
  }
  if (x === 0 && tx !== 0) throw new RangeError(`recency must be 0 when x = 0 (got tx=${tx})`);
}

function checkTime(t: number, name = 't'): void {
  if (!(Number.isFinite(t) && t >= 0)) throw new RangeError(`${name}=${t} must be finite and ≥ 0`);
}

// ---------------------------------------------------------------------------------------------
// Building blocks shared by the likelihood, P(alive) and the conditional expectation

/**
 * ln of the odds "dropped out after the last purchase : still alive at T", given (x, t_x, T).
 * BG/NBD: ln(a/(b+x−1)) + (r+x) ln((α+T)/(α+t_x)), and −∞ for x = 0 (cannot have dropped out).
 * MBG/NBD: ln(a/(b+x)) + (r+x) ln((α+T)/(α+t_x)).
 */
function logDropoutOdds(model: CountModel, p: CountParams, m: Rfm): number {
  if (model === 'bgnbd' && m.x === 0) return -Infinity;
  const dropouts = model === 'bgnbd' ? p.b + m.x - 1 : p.b + m.x;
  // ln((α+T)/(α+t_x)) via log1p keeps precision when T − t_x is small.
  return Math.log(p.a / dropouts) + (p.r + m.x) * Math.log1p((m.T - m.tx) / (p.alpha + m.tx));
}

/** 1 / (1 + e^y) without overflow: exactly 1 at y = −∞ and 0 once e^y overflows. */
function logisticOfNegative(y: number): number {
  if (y > 0) {
    const e = Math.exp(-y);
    return e / (1 + e);
  }
  return 1 / (1 + Math.exp(y));
}

/** Log-likelihood without argument checks (the hot loop of the fit). */
function memberLogLikelihoodUnchecked(model: CountModel, p: CountParams, m: Rfm): number {
  const { r, alpha, a, b } = p;
  const { x, T } = m;
  const survivals = model === 'bgnbd' ? x : x + 1; // dropout chances survived when alive at T
  // ln[ B(a, b+survivals)/B(a,b) · Γ(r+x) α^r / (Γ(r) (α+T)^(r+x)) ]: "still alive at T".
  const aliveAtT =
    lgamma(r + x) -
    lgamma(r) +
    r * Math.log(alpha) -
    (r + x) * Math.log(alpha + T) +
    lbeta(a, b + survivals) -
    lbeta(a, b);
  // The "dropped out right after t_x" term equals aliveAtT + logDropoutOdds.
  return aliveAtT + logAddExp(0, logDropoutOdds(model, p, m));
}

// ---------------------------------------------------------------------------------------------
// Public API

/** ln L(r, α, a, b | x, t_x, T) for one member (FHL 2005 §4; Batislam et al. 2007). */
export function memberLogLikelihood(model: CountModel, p: CountParams, m: Rfm): number {
  checkModel(model);
  checkParams(p);
  checkRfm(m);
  return memberLogLikelihoodUnchecked(model, p, m);
}

/** Sum of memberLogLikelihood over members. */
export function logLikelihood(model: CountModel, p: CountParams, members: readonly Rfm[]): number {
  checkModel(model);
  checkParams(p);
  let sum = 0;
  for (const m of members) {
    checkRfm(m);
    sum += memberLogLikelihoodUnchecked(model, p, m);
  }
  return sum;
}

/** P(alive at T | x, t_x, T) (Fader, Hardie & Lee 2008, brucehardie.com note 021, for BG/NBD; Batislam et al. 2007 for MBG/NBD). */
export function pAlive(model: CountModel, p: CountParams, m: Rfm): number {
  checkModel(model);
  checkParams(p);
  checkRfm(m);
  return logisticOfNegative(logDropoutOdds(model, p, m));
}

/**
 * E[X(T, T+t) | x, t_x, T]: expected repeat purchases in the next t time units.
 * BG/NBD (FHL 2005 eq. 10):
 *   (a+b+x−1)/(a−1) · [1 − ((α+T)/(α+T+t))^(r+x) 2F1(r+x, b+x; a+b+x−1; z)] · P(alive), z = t/(α+T+t);
 * MBG/NBD (Wagner & Hoppe 2008; lifetimes):
 *   (a+b+x)/(a−1) · [1 − ((α+T)/(α+T+t))^(r+x) 2F1(r+x, b+x+1; a+b+x; z)] · P(alive).
 * The bracket is usually evaluated after Euler's transformation, 2F1(A,B;C;z) = (1−z)^(C−A−B) 2F1(C−A, C−B; C; z),
 * which turns it into 1 − (1−z)^(a−1) 2F1(C−r−x, a−1; C; z): no overflow for large x. −expm1/log1p
 * keep full precision for small t. Throws (from hyp2f1) only for t beyond ~10⁴ · (α + T).
 */
export function expectedPurchases(model: CountModel, p: CountParams, m: Rfm, t: number): number {
  checkModel(model);
  checkParams(p);
  checkRfm(m);
  checkTime(t);
  if (t === 0) return 0;
  // The closed form divides by a − 1; next to a = 1 interpolate between a = 1 ± h (error O(h²)).
  const h = 1e-6;
  if (Math.abs(p.a - 1) < h) {
    const below = expectedPurchasesUnchecked(model, { ...p, a: 1 - h }, m, t);
    const above = expectedPurchasesUnchecked(model, { ...p, a: 1 + h }, m, t);
    return below + ((p.a - (1 - h)) / (2 * h)) * (above - below);
  }
  return expectedPurchasesUnchecked(model, p, m, t);
}

function expectedPurchasesUnchecked(model: CountModel, p: CountParams, m: Rfm, t: number): number {
  const { r, alpha, a, b } = p;
  const { x, T } = m;
  const c = model === 'bgnbd' ? a + b + x - 1 : a + b + x; // the 2F1 parameter C, also the leading factor
  const z = t / (alpha + T + t);
  const lnOneMinusZ = -Math.log1p(t / (alpha + T));
  // 1 − (1−z)^k 2F1(A, B; c; z), with 2F1 − 1 summed directly and −expm1/log1p so that small t
  // keeps full precision.
  const bracket = (k: number, A: number, B: number): number => {
    const fMinus1 = hyp2f1Minus1(A, B, c, z);
    if (fMinus1 > -1) return -Math.expm1(k * lnOneMinusZ + Math.log1p(fMinus1));
    return 1 - Math.exp(k * lnOneMinusZ) * (1 + fMinus1); // 2F1 ≤ 0 (only when c < 0, i.e. a + b < 1)
  };
  // Euler form: all its terms have one sign when c − r − x ≥ 0, and it cannot overflow.
  // Otherwise (r > a + b − 1, or > a + b for MBG/NBD) its terms alternate and may cancel, while the
  // untransformed series has positive terms: try that one first, and keep it if it is finite.
  let kept = Number.NaN;
  if (c - r - x < 0) {
    try {
      kept = bracket(r + x, r + x, model === 'bgnbd' ? b + x : b + x + 1);
    } catch {
      kept = Number.NaN; // e.g. overflow or no convergence: the Euler form below decides
    }
  }
  if (!Number.isFinite(kept)) kept = bracket(a - 1, c - r - x, a - 1);
  return (c / (a - 1)) * kept * logisticOfNegative(logDropoutOdds(model, p, m));
}

/** E[X(t)] for a member just acquired (FHL 2005 eq. 9 for BG/NBD; lifetimes for MBG/NBD). */
export function expectedPurchasesNew(model: CountModel, p: CountParams, t: number): number {
  // A new member is one with x = 0, t_x = 0, T = 0; eq. 10 then reduces to eq. 9.
  return expectedPurchases(model, p, { x: 0, tx: 0, T: 0 }, t);
}

/**
 * P(X(t) = n) for a member just acquired.
 * BG/NBD (FHL 2005 eq. 8):
 *   B(a,b+n)/B(a,b) · NB(n) + δ(n>0) B(a+1,b+n−1)/B(a,b) · P(NB ≥ n),
 * MBG/NBD (same derivation with a dropout chance at time 0):
 *   B(a,b+n+1)/B(a,b) · NB(n) + B(a+1,b+n)/B(a,b) · P(NB ≥ n),
 * where NB(j) = Γ(r+j)/(Γ(r) j!) (α/(α+t))^r (t/(α+t))^j is the NBD count of a member who stays.
 */
export function probabilityOfPurchases(model: CountModel, p: CountParams, n: number, t: number): number {
  checkModel(model);
  checkParams(p);
  checkTime(t);
  if (!(Number.isInteger(n) && n >= 0)) throw new RangeError(`n=${n} must be a non-negative integer`);
  const { r, alpha, a, b } = p;
  if (t === 0) return n === 0 ? 1 : 0;
  const nbd = new NegativeBinomial(r, alpha, t);
  const lnB = lbeta(a, b);
  const survivals = model === 'bgnbd' ? n : n + 1;
  const stays = Math.exp(lbeta(a, b + survivals) - lnB + nbd.logPmf(n));
  if (model === 'bgnbd' && n === 0) return stays;
  const leaves = Math.exp(lbeta(a + 1, b + survivals - 1) - lnB) * nbd.survival(n);
  return stays + leaves;
}

/** NBD(r, α) count over a window of length t: the Poisson–gamma mixture. */
class NegativeBinomial {
  private readonly r: number;
  private readonly lnP0: number; // r ln(α/(α+t))
  private readonly lnQ: number; // ln(t/(α+t))
  private readonly lgammaR: number;

  constructor(r: number, alpha: number, t: number) {
    this.r = r;
    this.lnP0 = -r * Math.log1p(t / alpha);
    this.lnQ = -Math.log1p(alpha / t);
    this.lgammaR = lgamma(r);
  }

  logPmf(j: number): number {
    return lgamma(this.r + j) - this.lgammaR - lgamma(j + 1) + this.lnP0 + j * this.lnQ;
  }

  /** P(N ≥ n): 1 − the head when the head is small, otherwise the tail sum (no cancellation). */
  survival(n: number): number {
    let head = 0;
    for (let j = 0; j < n && head <= 0.5; j++) head += Math.exp(this.logPmf(j));
    if (head <= 0.5) return 1 - head;
    // Terms have ratio (r+j)/(j+1)·q → q < 1; stop once the geometric tail bound is negligible.
    const q = Math.exp(this.lnQ);
    let term = Math.exp(this.logPmf(n));
    let tail = 0;
    for (let j = n; j < n + 10_000_000; j++) {
      tail += term;
      const ratio = ((this.r + j) / (j + 1)) * q;
      term *= ratio;
      const bound = Math.max(ratio, q); // the ratio tends monotonically to q
      if (bound < 1 && term / (1 - bound) <= Number.EPSILON * tail) return tail;
    }
    throw new Error(`NBD tail P(N ≥ ${n}) did not converge (t/(α+t) = ${q})`);
  }
}

// ---------------------------------------------------------------------------------------------
// Fitting

interface WeightedRfm {
  m: Rfm;
  weight: number;
}

/** Identical (x, t_x, T) rows contribute identically: evaluate each distinct one once. */
function groupIdentical(members: readonly Rfm[]): WeightedRfm[] {
  const groups = new Map<string, WeightedRfm>();
  for (const m of members) {
    checkRfm(m);
    const key = `${m.x}|${m.tx}|${m.T}`;
    const g = groups.get(key);
    if (g) g.weight += 1;
    else groups.set(key, { m: { x: m.x, tx: m.tx, T: m.T }, weight: 1 });
  }
  return [...groups.values()];
}

const fromLog = (v: number[]): CountParams => ({
  r: Math.exp(v[0] as number),
  alpha: Math.exp(v[1] as number),
  a: Math.exp(v[2] as number),
  b: Math.exp(v[3] as number),
});

/**
 * Maximum likelihood over log-parameters with restarted Nelder–Mead. The objective is the mean
 * negative log-likelihood plus penalizer · (r² + α² + a² + b²), the convention of lifetimes'
 * penalizer_coef; with the default penalizer 0 this is plain ML. logLikelihood in the result is
 * the unpenalised total.
 */
/** Fitted parameters stay within e^±25: beyond that the data do not identify them. */
export const logParameterBound = 25;

export function fitCountModel(model: CountModel, members: readonly Rfm[], opts: { penalizer?: number } = {}): CountFit {
  checkModel(model);
  const penalizer = opts.penalizer ?? 0;
  if (!(Number.isFinite(penalizer) && penalizer >= 0)) throw new RangeError(`penalizer=${penalizer} must be ≥ 0`);
  if (members.length === 0) throw new RangeError('fitCountModel: no members');
  const groups = groupIdentical(members);
  const total = members.length;

  const objective = (v: number[]): number => {
    // A flat likelihood (no visible drop-out, say) lets a parameter run off to infinity; a box
    // on the log-parameters (e^±25) makes the search stop at the edge instead of drifting for ever.
    if (v.some((x) => Math.abs(x) > logParameterBound)) return Infinity;
    const p = fromLog(v);
    if (![p.r, p.alpha, p.a, p.b].every((x) => Number.isFinite(x) && x > 0)) return Infinity;
    let ll = 0;
    for (const g of groups) ll += g.weight * memberLogLikelihoodUnchecked(model, p, g.m);
    return -ll / total + penalizer * (p.r ** 2 + p.alpha ** 2 + p.a ** 2 + p.b ** 2);
  };

  // Start at r = a = b = 1 and a scale-free α: with r = 1, E[λ] = 1/α ≈ purchases per unit of age.
  const sumX = members.reduce((s, m) => s + m.x, 0);
  const sumT = members.reduce((s, m) => s + m.T, 0);
  const alpha0 = sumT > 0 ? sumT / Math.max(sumX, 1) : 1;
  const result = minimizeWithRestarts(objective, [0, Math.log(alpha0), 0, 0]);
  const params = fromLog(result.x);
  let logLik = 0;
  for (const g of groups) logLik += g.weight * memberLogLikelihoodUnchecked(model, params, g.m);
  return {
    model,
    params,
    logLikelihood: logLik,
    iterations: result.iterations,
    converged: result.converged,
    members: total,
  };
}
