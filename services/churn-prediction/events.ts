import type { Rules } from '../../shared/config/rules.js';
import type { ChurnReason, ChurnRiskValue } from '../../shared/contracts/churn-risk.js';
import { scoreMember, type ScoringModel } from '../../shared/clv/score.js';
import { dayMs, localDay } from '../../shared/util/time.js';
import type { OutputEvent } from '../../shared/kernel/types.js';
import type { Band } from './bands.js';
import type { ChurnState } from './state.js';
import { meanRepeatSpendFen, rfmAt } from './statistics.js';

export interface Decided {
  reason: ChurnReason;
  previousBand: Band | null;
  band: Band;
  eventId: string;
  sourceEventId: string;
  at: number;
  plan?: { plan: string; periodEnd: number };
}

/** Lifecycle stage at `at`: the latest one behavior-events gave, or exit once inactive for long. */
export function stageAt(s: ChurnState, at: number, rules: Rules): string {
  const exitMs = rules.behavior.lifecycle.exitAfterDays * dayMs;
  return s.lastActivityAt !== null && at - s.lastActivityAt >= exitMs ? 'exit' : s.stage;
}

/** A member.churn-risk event with every figure computed at the decision's instant. */
export function churnRiskEvent(
  s: ChurnState,
  memberId: string,
  d: Decided,
  model: ScoringModel,
  rules: Rules,
): OutputEvent {
  const today = localDay(d.at, rules.timeZone);
  const rfm = rfmAt(s.stats, today) ?? { x: 0, recencyDays: 0, ageDays: 0 };
  const c = rules.churn;
  const score = scoreMember(
    model,
    { x: rfm.x, tx: rfm.recencyDays, T: rfm.ageDays },
    meanRepeatSpendFen(s.stats) / 100,
    {
      horizon: c.expectedPurchasesDays,
      lifetimeValue: c.lifetimeValue,
    },
  );
  const value: ChurnRiskValue = {
    eventId: d.eventId,
    sourceEventId: d.sourceEventId,
    userId: memberId,
    reason: d.reason,
    previousBand: d.previousBand,
    band: d.band,
    pAlive: score.pAlive,
    expectedPurchases: score.expectedPurchases,
    horizonDays: c.expectedPurchasesDays,
    expectedAverageSpendFen: score.expectedAverageSpend === null ? null : Math.round(score.expectedAverageSpend * 100),
    lifetimeValueFen: score.lifetimeValue === null ? null : Math.round(score.lifetimeValue * 100),
    frequency: rfm.x,
    recencyDays: rfm.recencyDays,
    ageDays: rfm.ageDays,
    lastActivityAt: s.lastActivityAt,
    lifecycleStage: stageAt(s, d.at, rules),
    plan: d.plan?.plan ?? s.subscription?.plan ?? null,
    periodEnd: d.plan?.periodEnd ?? s.subscription?.periodEnd ?? null,
    modelVersion: model.version,
    rulesVersion: rules.version,
    occurredAt: d.at,
  };
  return {
    topic: 'member.churn-risk',
    key: memberId,
    id: d.eventId,
    value: value as unknown as Record<string, unknown>,
  };
}
