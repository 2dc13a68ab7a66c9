import type { Rules } from '../../shared/config/rules.js';
import type { BehaviorEventValue } from '../../shared/contracts/behavior-event.js';
import { localParts, periodKey } from '../../shared/util/calendar.js';
import { usagePeriodsKept } from './state.js';

type PointsRules = Rules['points'];
export type EarningRule = PointsRules['earningRules'][number];

/**
 * The built-in rules, from the scalar defaults of the rules file, followed by
 * the operators' `earningRules`. Every matching rule awards (within its own
 * usage limits); a type no rule names earns nothing.
 */
export function earningRules(p: PointsRules): EarningRule[] {
  return [
    {
      id: 'base:payment',
      eventTypes: ['purchase', 'subscription'],
      fixedPoints: 0,
      pointsPerYuan: p.pointsPerYuan,
      limits: [],
    },
    {
      id: 'base:interaction',
      eventTypes: ['comment', 'share'],
      fixedPoints: p.interactionPoints,
      pointsPerYuan: 0,
      limits: [{ period: 'day', maxAwards: p.interactionDailyCap }],
    },
    // Its daily limit is also referral abuse control (referrals.ts): a referral past it is refused with a reason.
    {
      id: 'base:referral',
      eventTypes: ['referral'],
      fixedPoints: p.referralPoints,
      pointsPerYuan: 0,
      limits: [{ period: 'day', maxAwards: p.referrals.paidPerDay }],
    },
    ...p.earningRules,
  ];
}

/**
 * No tier reaches this worker yet (behavior.events has no tier field): a rule
 * with a `tiers` condition matches only an event that carries a `tier` string
 * in that list, so until events carry one such rules award nothing.
 */
export function tierOf(e: BehaviorEventValue): string | null {
  const tier = (e as unknown as { tier?: unknown }).tier;
  return typeof tier === 'string' ? tier : null;
}

export function ruleMatches(rule: EarningRule, e: BehaviorEventValue): boolean {
  if (!rule.eventTypes.includes(e.type)) return false;
  if (rule.categories && (e.category === null || !rule.categories.includes(e.category))) return false;
  if (rule.tiers) {
    const tier = tierOf(e);
    if (tier === null || !rule.tiers.includes(tier)) return false;
  }
  return true;
}

/** Fixed points plus points per whole yuan (floor: 199 fen is 1 yuan). */
export function basePoints(rule: EarningRule, e: BehaviorEventValue): number {
  const yuan = Math.floor(Math.max(0, e.amountFen ?? 0) / 100);
  return rule.fixedPoints + rule.pointsPerYuan * yuan;
}

export type Usage = Record<string, [number, number][]>;
const usageKey = (ruleId: string, period: string) => `${ruleId}|${period}`;

/**
 * Whether every usage limit of the rule still has room at `at`. A period older
 * than the counters kept (an event several periods late) cannot be checked
 * and is refused: over-awarding cannot be taken back, under-awarding is rare.
 */
export function usageAllows(usage: Usage, rule: EarningRule, at: number, timeZone: string): boolean {
  return rule.limits.every((limit) => {
    const counts = usage[usageKey(rule.id, limit.period)] ?? [];
    const key = periodKey(limit.period, at, timeZone);
    const oldest = counts[0]?.[0];
    if (counts.length >= usagePeriodsKept && oldest !== undefined && key < oldest) return false;
    return (counts.find(([k]) => k === key)?.[1] ?? 0) < limit.maxAwards;
  });
}

export function recordUsage(usage: Usage, rule: EarningRule, at: number, timeZone: string): Usage {
  const next = { ...usage };
  for (const limit of rule.limits) {
    const k = usageKey(rule.id, limit.period);
    const key = periodKey(limit.period, at, timeZone);
    const counts = next[k] ?? [];
    const bumped: [number, number][] = counts.some(([p]) => p === key)
      ? counts.map(([p, n]) => [p, p === key ? n + 1 : n])
      : [...counts, [key, 1] as [number, number]].sort((a, b) => a[0] - b[0]);
    next[k] = bumped.slice(-usagePeriodsKept);
  }
  return next;
}

/** Drops counters of rules (or limits) the current rules no longer have, so state stays bounded by the rules. */
export function pruneUsage(usage: Usage, p: PointsRules): Usage {
  const live = new Set(earningRules(p).flatMap((r) => r.limits.map((l) => usageKey(r.id, l.period))));
  return Object.fromEntries(Object.entries(usage).filter(([k]) => live.has(k)));
}

export interface Award {
  ruleId: string;
  points: number;
}

/** What an event earns before multipliers, and the usage counters after it. */
export function awardsFor(e: BehaviorEventValue, usage: Usage, rules: Rules): { awards: Award[]; usage: Usage } {
  const awards: Award[] = [];
  let next = usage;
  for (const rule of earningRules(rules.points)) {
    if (!ruleMatches(rule, e)) continue;
    const points = basePoints(rule, e);
    if (points <= 0 || !usageAllows(next, rule, e.occurredAt, rules.timeZone)) continue;
    awards.push({ ruleId: rule.id, points });
    next = recordUsage(next, rule, e.occurredAt, rules.timeZone);
  }
  return { awards, usage: next };
}

/**
 * Multipliers at the event's time in the platform zone: member day and every
 * active campaign for the type, multiplied together (member day ×2 and a ×3
 * campaign give ×6). A dayOfMonth a month lacks (31) means no member day that month.
 */
export function multiplierFor(e: BehaviorEventValue, rules: Rules): { factor: number; sources: string[] } {
  const p = rules.points;
  let factor = 1;
  const sources: string[] = [];
  if (p.memberDay.multiplier > 1 && localParts(e.occurredAt, rules.timeZone).day === p.memberDay.dayOfMonth) {
    factor *= p.memberDay.multiplier;
    sources.push('member_day');
  }
  for (const c of p.campaigns) {
    const active =
      c.startsAt <= e.occurredAt && e.occurredAt < c.endsAt && (!c.eventTypes || c.eventTypes.includes(e.type));
    if (active && c.multiplier > 1) {
      factor *= c.multiplier;
      sources.push(`campaign:${c.id}`);
    }
  }
  return { factor, sources };
}
