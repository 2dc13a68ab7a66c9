import type { Rules } from '../../shared/config/rules.js';
import type { BehaviorEventValue } from '../../shared/contracts/behavior-event.js';
import { scoringModel, type ScoringModel } from '../../shared/clv/score.js';
import type { DecideContext, Decision, OutputEvent, TickContext, WorkerLogic } from '../../shared/kernel/types.js';
import { startOfLocalDay } from '../../shared/util/calendar.js';
import { localDay } from '../../shared/util/time.js';
import { bandOf, nextBandChangeDay, pAliveOn, type Band } from './bands.js';
import { churnRiskEvent, type Decided } from './events.js';
import { initialChurnState, nextDue, type ChurnState } from './state.js';
import { recordPurchase } from './statistics.js';

export const workerName = 'churn-prediction';

interface Draft {
  state: ChurnState;
  outputs: OutputEvent[];
}

interface Ctx {
  memberId: string;
  rules: Rules;
  model: ScoringModel;
  sourceEventId: string;
}

/** Activity that shows the member is using the platform (refunds, cancellations and referral credits do not). */
const engagementTypes = new Set([
  'signup',
  'purchase',
  'subscription',
  'lesson_complete',
  'content_view',
  'comment',
  'share',
  'checkin',
  'redeem',
]);

const modelFor = (rules: Rules): ScoringModel => scoringModel(rules.churn.model, 'days');

/**
 * Re-scores the member at instant `at` (scores change by local day): the band,
 * and when it will next change. Emits an event when the band differs.
 */
function rescore(d: Draft, c: Ctx, at: number, eventId: string): Draft {
  const s = d.state;
  const today = localDay(at, c.rules.timeZone);
  const p = pAliveOn(s.stats, today, c.model);
  if (p === null) return d;
  const band: Band = bandOf(p, c.rules.churn.bands);
  const changeDay = nextBandChangeDay(s.stats, today, c.model, c.rules.churn);
  const state: ChurnState = {
    ...s,
    band,
    bandDueAt: changeDay === null ? null : startOfLocalDay(changeDay, c.rules.timeZone),
    modelVersion: c.model.version,
  };
  if (band === s.band) return { ...d, state };
  const decided: Decided = {
    reason: s.band === null ? 'band_assigned' : 'band_changed',
    previousBand: s.band,
    band,
    eventId,
    sourceEventId: c.sourceEventId,
    at,
  };
  return { state, outputs: [...d.outputs, churnRiskEvent(state, c.memberId, decided, c.model, c.rules)] };
}

/**
 * Everything due at or before `until`, instant by instant: band changes (the
 * member aged into a riskier band) then plan lapses. Ids come from the member
 * and the instant, so a tick or an input reaching the same instant emits the
 * same event.
 */
function advance(d: Draft, c: Ctx, until: number): Draft {
  let draft = d;
  for (;;) {
    const s = draft.state;
    const due = nextDue(s);
    if (due === null || due > until) break;
    const at = Math.max(due, s.clock ?? due);
    draft = { ...draft, state: { ...s, clock: at } };
    if (s.bandDueAt !== null && s.bandDueAt <= at) {
      draft = rescore(draft, c, at, `churn:${c.memberId}:band:${at}`);
    }
    const sub = draft.state.subscription;
    if (sub !== null && !sub.lapseReported && sub.periodEnd <= at) {
      const lapsed: ChurnState = { ...draft.state, subscription: { ...sub, lapseReported: true } };
      const band = lapsed.band ?? 'low';
      const decided: Decided = {
        reason: 'subscription_lapsed',
        previousBand: lapsed.band,
        band,
        eventId: `churn:${c.memberId}:lapse:${sub.periodEnd}`,
        sourceEventId: c.sourceEventId,
        at,
        plan: { plan: sub.plan, periodEnd: sub.periodEnd },
      };
      draft = {
        state: lapsed,
        outputs: [...draft.outputs, churnRiskEvent(lapsed, c.memberId, decided, c.model, c.rules)],
      };
    }
  }
  const clock = Math.max(draft.state.clock ?? until, until);
  return { ...draft, state: { ...draft.state, clock } };
}

/** The input's own effect on the state: engagement, stage, purchase statistics, the paid plan followed. */
function absorb(s: ChurnState, e: BehaviorEventValue, rules: Rules): { state: ChurnState; purchased: boolean } {
  let next = s;
  if (engagementTypes.has(e.type)) {
    const latest = s.lastActivityAt === null || e.occurredAt >= s.lastActivityAt;
    next = {
      ...next,
      lastActivityAt: latest ? e.occurredAt : s.lastActivityAt,
      stage: latest && e.stage !== 'unknown' ? e.stage : s.stage,
    };
  }
  const paid = (e.type === 'purchase' || e.type === 'subscription') && e.amountFen !== null;
  if (paid) {
    const day = localDay(e.occurredAt, rules.timeZone);
    next = { ...next, stats: recordPurchase(next.stats, day, e.amountFen!, rules.churn.maxPurchaseDays) };
  }
  if (e.type === 'subscription' && e.plan !== null && e.periodEnd !== null && (e.amountFen ?? 0) > 0) {
    const current = next.subscription;
    if (current === null || e.periodEnd > current.periodEnd) {
      next = { ...next, subscription: { plan: e.plan, periodEnd: e.periodEnd, lapseReported: false } };
    }
  }
  return { state: next, purchased: paid };
}

/**
 * One behavior event: first whatever time-driven work is due up to its time
 * (so the outcome does not depend on how often ticks arrive), then its effect,
 * then a re-score if it was a purchase or the parameters in force changed.
 * Time never moves back: a late event is scored at the member's clock.
 */
export function decideChurn(state: ChurnState, e: BehaviorEventValue, ctx: DecideContext): Decision<ChurnState> {
  const c: Ctx = { memberId: e.userId, rules: ctx.rules, model: modelFor(ctx.rules), sourceEventId: e.eventId };
  const caught = advance({ state, outputs: [] }, c, e.occurredAt);
  const at = caught.state.clock ?? e.occurredAt;
  const { state: absorbed, purchased } = absorb(caught.state, e, ctx.rules);
  let d: Draft = { ...caught, state: absorbed };
  const newParameters = absorbed.modelVersion !== null && absorbed.modelVersion !== c.model.version;
  if (purchased || newParameters) d = rescore(d, c, at, `churn:${e.eventId}`);
  // A plan that arrived already ended (a late event) lapses now.
  d = advance(d, c, at);
  return { kind: 'applied', state: d.state, outputs: d.outputs };
}

/** Time passing for a member who does nothing: the band ages towards high, plans lapse. */
export function tickChurn(state: ChurnState, memberId: string, tick: TickContext): Decision<ChurnState> {
  const c: Ctx = { memberId, rules: tick.rules, model: modelFor(tick.rules), sourceEventId: tick.tickId };
  const d = advance({ state, outputs: [] }, c, tick.time);
  return { kind: 'applied', state: d.state, outputs: d.outputs };
}

export const churnLogic: WorkerLogic<ChurnState, BehaviorEventValue> = {
  name: workerName,
  initialState: () => initialChurnState(),
  decide: decideChurn,
  nextDue,
  onTick: tickChurn,
};
