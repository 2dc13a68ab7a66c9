import type { Rules } from '../../shared/config/rules.js';

export type Tier = Rules['tiers']['ladder'][number];

/** Position of a tier in the ladder (0 = lowest), or -1 when the ladder no longer has it. */
export const tierIndex = (rules: Rules, name: string): number => rules.tiers.ladder.findIndex((t) => t.name === name);

/** The highest tier whose minPoints the points reach (the lowest tier starts at 0, so always one). */
export function indexForPoints(rules: Rules, points: number): number {
  let found = 0;
  rules.tiers.ladder.forEach((t, i) => {
    if (points >= t.minPoints) found = i;
  });
  return found;
}

export function tierAt(rules: Rules, index: number): Tier {
  const l = rules.tiers.ladder;
  const t = l[Math.max(0, Math.min(l.length - 1, index))];
  if (!t) throw new Error('empty tier ladder');
  return t;
}

/** Points still missing for the tier above `index`, or null at the top. */
export function pointsToNext(rules: Rules, index: number, points: number): number | null {
  const next = rules.tiers.ladder[index + 1];
  return next ? Math.max(0, next.minPoints - points) : null;
}

/** Points still missing to hold the tier at `index` on points alone. */
export const pointsToKeep = (rules: Rules, index: number, points: number): number =>
  Math.max(0, tierAt(rules, index).minPoints - points);
