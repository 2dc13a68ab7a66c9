import type { ChurnModelParams } from '../config/rules.js';
import { expectedPurchases, pAlive, type CountModel, type CountParams, type Rfm } from './count-models.js';
import { expectedAverageSpend, lifetimeValue, type SpendParams } from './gamma-gamma.js';

/**
 * One scoring path for the CLI (`memberflow churn score`) and the stream worker,
 * so both give the same numbers for the same member. Inputs may be in days or
 * weeks whatever unit the parameters were fitted in: the model is scale-free
 * once alpha (a rate per unit of time) is rescaled.
 */
export type TimeUnit = 'weeks' | 'days';

export const daysPerUnit: Record<TimeUnit, number> = { weeks: 7, days: 1 };

/** A month for lifetime value: 365.25 / 12 days. */
export const daysPerMonth = 365.25 / 12;

export interface ScoringModel {
  model: CountModel;
  count: CountParams;
  spend: SpendParams | null;
  /** Time unit of `count.alpha` and of the inputs given to `scoreMember`. */
  unit: TimeUnit;
  version: string;
}

/** The parameters in force, re-expressed for inputs in `unit`. */
export function scoringModel(p: ChurnModelParams, unit: TimeUnit): ScoringModel {
  // alpha has the unit of time (E[rate] = r / alpha): a week is 7 days, so alpha in days is 7 × alpha in weeks.
  const alpha = (p.alpha * daysPerUnit[p.unit]) / daysPerUnit[unit];
  return { model: p.model, count: { r: p.r, alpha, a: p.a, b: p.b }, spend: p.spend, unit, version: p.version };
}

export interface ScoreOptions {
  /** Horizon for expected purchases, in the model's unit. */
  horizon: number;
  lifetimeValue: { months: number; monthlyDiscountRate: number };
}

export interface MemberScore {
  pAlive: number;
  expectedPurchases: number;
  /** Expected spend per future purchase (Gamma-Gamma), in the unit of `zbar`; null without spend parameters. */
  expectedAverageSpend: number | null;
  /** Discounted value of the purchases expected over the lifetime-value horizon; null without spend parameters. */
  lifetimeValue: number | null;
}

export function memberPAlive(m: ScoringModel, rfm: Rfm): number {
  return pAlive(m.model, m.count, rfm);
}

/** Every figure for one member: rfm in the model's unit, zbar = mean spend per repeat purchase. */
export function scoreMember(m: ScoringModel, rfm: Rfm, zbar: number, o: ScoreOptions): MemberScore {
  const p = pAlive(m.model, m.count, rfm);
  const expected = expectedPurchases(m.model, m.count, rfm, o.horizon);
  if (m.spend === null)
    return { pAlive: p, expectedPurchases: expected, expectedAverageSpend: null, lifetimeValue: null };
  const spendInput = { x: rfm.x, zbar };
  const ltv = lifetimeValue(
    m.model,
    m.count,
    m.spend,
    { ...rfm, ...spendInput },
    {
      months: o.lifetimeValue.months,
      monthlyDiscountRate: o.lifetimeValue.monthlyDiscountRate,
      unitsPerMonth: daysPerMonth / daysPerUnit[m.unit],
    },
  );
  return {
    pAlive: p,
    expectedPurchases: expected,
    expectedAverageSpend: expectedAverageSpend(m.spend, spendInput),
    lifetimeValue: ltv,
  };
}
