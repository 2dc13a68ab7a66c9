import type { ChurnRules } from '../../shared/config/rules.js';
import { memberPAlive, type ScoringModel } from '../../shared/clv/score.js';
import { rfmAt, type PurchaseStats } from './statistics.js';

export const bands = ['low', 'medium', 'high'] as const;
export type Band = (typeof bands)[number];

/** Risk band from P(alive): the thresholds live in the rules file. */
export function bandOf(pAlive: number, b: ChurnRules['bands']): Band {
  if (pAlive < b.highBelow) return 'high';
  if (pAlive < b.mediumBelow) return 'medium';
  return 'low';
}

export function pAliveOn(stats: PurchaseStats, day: number, model: ScoringModel): number | null {
  const rfm = rfmAt(stats, day);
  return rfm === null ? null : memberPAlive(model, { x: rfm.x, tx: rfm.recencyDays, T: rfm.ageDays });
}

/** Looking further than this for a band change is pointless: ~100 years. */
const horizonDays = 36_525;

/**
 * The first local day after `today` on which the member's band differs from
 * today's, if nothing else happens; null if it never does. P(alive) only falls
 * as the member ages with no purchase (for fixed x and t_x), so the band only
 * moves towards high and the crossing day is found by doubling then bisection:
 * a few dozen closed-form evaluations, instead of re-scoring every member on
 * every tick.
 */
export function nextBandChangeDay(
  stats: PurchaseStats,
  today: number,
  model: ScoringModel,
  rules: ChurnRules,
): number | null {
  const now = pAliveOn(stats, today, model);
  if (now === null) return null;
  const band = bandOf(now, rules.bands);
  if (band === 'high') return null;
  const changed = (day: number) => bandOf(pAliveOn(stats, day, model)!, rules.bands) !== band;
  let step = 1;
  while (!changed(today + step)) {
    if (step >= horizonDays) return null;
    step *= 2;
  }
  let lo = today + Math.floor(step / 2); // unchanged (or today itself)
  let hi = today + step; // changed
  while (hi - lo > 1) {
    const mid = lo + Math.floor((hi - lo) / 2);
    if (changed(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}
