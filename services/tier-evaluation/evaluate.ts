import type { Rules } from '../../shared/config/rules.js';
import type { OutputEvent } from '../../shared/kernel/types.js';
import { changeId, changeOutputs, reasons, type ChangeKind, type Reason } from './events.js';
import { floorIndex } from './floors.js';
import { downgradeTarget, graceOver, needsNewWarning, startGrace } from './grace.js';
import { indexForPoints, pointsToKeep, pointsToNext, tierAt, tierIndex } from './ladder.js';
import type { Grace, TierState } from './state.js';
import { qualifyingAt } from './window.js';

/** What a decision accumulates: the state so far and the outputs so far, in order. */
export interface Draft {
  state: TierState;
  outputs: OutputEvent[];
}

export interface EvalContext {
  memberId: string;
  rules: Rules;
  /** The input event id or tick id that brought the decision about. */
  sourceEventId: string;
}

/** What the state supports at `at`: by points, by floors, and the higher of both (ladder indexes). */
export function supportedAt(s: TierState, rules: Rules, at: number) {
  const points = qualifyingAt(s.window, s.windowMs, at);
  const byPoints = indexForPoints(rules, points);
  const floor = floorIndex(s.floors, rules, at);
  return { points, byPoints, floor, supported: Math.max(byPoints, floor) };
}

/**
 * The tier decision at instant `at`, after the state's window and floors were
 * brought to `at`. At most one change of each kind; ids `<base>:<kind>`.
 *
 * - no tier yet: `initial` with the supported tier;
 * - grace over and still short: `downgrade` (direct or one step), and in
 *   stepwise mode a new grace period (`tier_at_risk`) if still short;
 * - supported above current: `upgrade` (skipping tiers if need be; ends any grace);
 * - supported equal during grace: `tier_kept`;
 * - supported below: grace starts (`tier_at_risk`), or the downgrade is
 *   immediate when graceDays is 0; during grace a deeper drop is announced again.
 */
export function evaluate(d: Draft, c: EvalContext, at: number, base: string, causes: readonly string[]): Draft {
  const { rules } = c;
  const s = d.state;
  const sup = supportedAt(s, rules, at);
  const cause = causes.length > 0 ? [...new Set(causes)].join('+') : reasons.timePassed;
  const floorName = sup.floor >= 0 ? tierAt(rules, sup.floor).name : null;

  const emit = (
    draft: Draft,
    kind: ChangeKind,
    previous: string | null,
    index: number,
    grace: Grace | null,
    reason: string,
  ): Draft => {
    const tier = tierAt(rules, index);
    const state: TierState = { ...draft.state, tier: tier.name, grace };
    const outputs = changeOutputs({
      eventId: changeId(base, kind),
      userId: c.memberId,
      kind,
      previousTier: previous,
      newTier: tier.name,
      newTierLabel: tier.label,
      reason,
      reasons: reason.split('+') as Reason[],
      qualifyingPoints: sup.points,
      pointsToNextTier: pointsToNext(rules, index, sup.points),
      pointsToKeepTier: grace ? pointsToKeep(rules, index, sup.points) : null,
      graceEndsAt: grace ? grace.endsAt : null,
      floorTier: floorName,
      benefits: tier.benefits,
      rulesVersion: rules.version,
      decidedAt: at,
      sourceEventId: c.sourceEventId,
      // Numbered by `sequenced` once the batch knows the input's offset.
      sequence: '',
    });
    return { state, outputs: [...draft.outputs, ...outputs] };
  };

  if (s.tier === null) return emit(d, 'initial', null, sup.supported, null, cause);
  const current = tierIndex(rules, s.tier);
  if (current < 0) {
    // The ladder no longer has this tier: re-anchor on what the member supports now.
    return emit(d, 'upgrade', s.tier, sup.supported, null, reasons.ladderChanged);
  }
  if (graceOver(s.grace, at) && sup.supported < current) {
    const target = downgradeTarget(rules, current, sup.supported);
    const down = emit(
      d,
      'downgrade',
      s.tier,
      target,
      null,
      [reasons.graceEnded, ...causes.filter((x) => x !== reasons.graceEnded)].join('+'),
    );
    if (target <= sup.supported) return down;
    const grace = startGrace(rules, at, pointsToKeep(rules, target, sup.points));
    return emit(down, 'tier_at_risk', tierAt(rules, target).name, target, grace, reasons.graceEnded);
  }
  if (sup.supported > current) return emit(d, 'upgrade', s.tier, sup.supported, null, cause);
  if (sup.supported === current) return s.grace ? emit(d, 'tier_kept', s.tier, current, null, cause) : d;
  const needed = pointsToKeep(rules, current, sup.points);
  if (s.grace === null) {
    const grace = startGrace(rules, at, needed);
    return grace
      ? emit(d, 'tier_at_risk', s.tier, current, grace, cause)
      : emit(d, 'downgrade', s.tier, sup.supported, null, cause);
  }
  if (needsNewWarning(s.grace, needed))
    return emit(d, 'tier_at_risk', s.tier, current, { ...s.grace, announced: needed }, cause);
  return d;
}
