import type { DecideContext, Decision, TickContext, WorkerLogic } from '../../shared/kernel/types.js';
import { advance, nextDue } from './due.js';
import { inputBase, reasons } from './events.js';
import { evaluate, type Draft, type EvalContext } from './evaluate.js';
import { recordSubscription } from './floors.js';
import { inputMeta, qualifyingDelta, type TierInput } from './inputs.js';
import { initialTierState, type TierState } from './state.js';
import { addMovement } from './window.js';

export type { TierInput, LedgerEntryValue } from './inputs.js';
export type { TierState } from './state.js';

export const workerName = 'tier-evaluation';

const applied = (d: Draft): Decision<TierState> => ({ kind: 'applied', state: d.state, outputs: d.outputs });

/** Inputs that matter: every ledger entry but `refuse`, and subscription events. Anything else changes nothing. */
export function relevant(input: TierInput): boolean {
  return input.source === 'ledger' ? input.entry.kind !== 'refuse' : input.event.type === 'subscription';
}

/**
 * One input: first everything due up to its time (the same work, with the
 * same ids, a tick at that time would have done), then the input at the
 * latest time seen (time never moves back: a late input is decided at the
 * clock; its own movement keeps its own instant, if still inside the window),
 * then the tier decision.
 */
export function decideTier(state: TierState, input: TierInput, ctx: DecideContext): Decision<TierState> {
  if (!relevant(input)) return { kind: 'applied', state, outputs: [] };
  const meta = inputMeta(input);
  const c: EvalContext = { memberId: meta.memberId, rules: ctx.rules, sourceEventId: meta.sourceEventId };
  const caught = advance({ state, outputs: [] }, c, meta.at);
  const s = caught.state;
  const at = s.clock ?? meta.at;
  let next: TierState;
  let cause: string;
  if (input.source === 'ledger') {
    const delta = qualifyingDelta(input.entry);
    const t = input.entry.occurredAt;
    next =
      delta !== 0 && t + s.windowMs > at
        ? { ...s, window: addMovement(s.window, t, delta, ctx.rules.tiers.maxWindowEntries) }
        : s;
    cause = delta > 0 ? reasons.pointsEarned : delta < 0 ? reasons.pointsReversed : reasons.ledgerEntry;
  } else {
    const { plan, periodEnd } = input.event;
    next =
      plan !== null && periodEnd !== null ? { ...s, floors: recordSubscription(s.floors, plan, periodEnd, at) } : s;
    cause = reasons.subscription;
  }
  return applied(evaluate({ ...caught, state: next }, c, at, inputBase(meta.sourceEventId), [cause]));
}

/** Time passing for a member who does nothing: points leave the window, grace periods and plans end. */
export function tickTier(state: TierState, memberId: string, tick: TickContext): Decision<TierState> {
  const c: EvalContext = { memberId, rules: tick.rules, sourceEventId: tick.tickId };
  return applied(advance({ state, outputs: [] }, c, tick.time));
}

export const tierLogic: WorkerLogic<TierState, TierInput> = {
  name: workerName,
  initialState: () => initialTierState(),
  decide: decideTier,
  nextDue,
  onTick: tickTier,
};
