/**
 * reco-members: per member, what they have and when they were last sent a recommendation
 * per trigger; turns a new item into one update per item it touches (to reco-items, by
 * item key) and decides when a recommendation event goes out.
 *
 * Whether an event goes out depends only on the member's own log (trigger and rate limit),
 * never on the model, so replays emit the same event ids. The items in it come from the
 * model as the worker sees it at that moment (see README: "What is exact").
 */
import type { DecideContext, Decision, OutputEvent, Projection, WorkerLogic } from '../../shared/kernel/types.js';
import { pairUpdates } from '../../shared/reco/cooccurrence.js';
import {
  emptyMemberState,
  markEmitted,
  observeCategory,
  observeItem,
  recoItemOf,
  shouldEmit,
  type MemberRecoState,
  type RecoTrigger,
} from '../../shared/reco/member.js';
import { itemUpdateEvent, recommendationEvent } from './events.js';
import type { RecoInput } from './inputs.js';
import {
  categoriesOfBenefits,
  minIntervalMs,
  modelParamsOf,
  rankFor,
  unlockedBenefits,
  type RecoView,
} from './model.js';

export type RecoMemberState = MemberRecoState;

export const recoMembersName = 'reco-members';

/** Projection: the members with at least one item (their count is the N of the likelihood ratio). */
export const membersProjection = 'members';

export function decideRecoMember(
  state: RecoMemberState,
  input: RecoInput,
  ctx: DecideContext<RecoView>,
): Decision<RecoMemberState> {
  const rules = ctx.rules;
  const reco = rules.reco;
  const outputs: OutputEvent[] = [];
  let next = state;
  const emit = (
    trigger: RecoTrigger,
    userId: string,
    sourceEventId: string,
    at: number,
    categories: string[] = [],
    unlocks: string[] = [],
  ): void => {
    if (!shouldEmit(next, trigger, at, minIntervalMs(reco, trigger))) return;
    if (ctx.view === undefined) throw new Error('reco-members needs the model view to recommend');
    outputs.push(
      recommendationEvent(
        rules,
        userId,
        trigger,
        sourceEventId,
        at,
        rankFor(next, ctx.view, reco, categories),
        unlocks,
      ),
    );
    next = markEmitted(next, trigger, at);
  };

  if (input.source === 'behavior') {
    const e = input.event;
    const item = recoItemOf(e);
    if (item !== null) {
      const obs = observeItem(next, item.itemId, item.category, modelParamsOf(reco).member);
      next = obs.state;
      if (obs.isNew) {
        for (const d of pairUpdates(
          { eventId: e.eventId, itemId: item.itemId, category: item.category, at: e.occurredAt },
          obs.previous,
        )) {
          outputs.push(itemUpdateEvent(d, e.userId, e.eventId, ctx.record));
        }
      }
      emit('next_item', e.userId, e.eventId, e.occurredAt);
    } else if (
      e.category !== null &&
      e.category !== '' &&
      reco.categoriesPerMember > 0 &&
      next.categories.at(-1) !== e.category
    ) {
      next = observeCategory(next, e.category, modelParamsOf(reco).member);
    }
  } else if (input.source === 'churn') {
    const e = input.event;
    if (e.band === 'high' && e.previousBand !== 'high') emit('win_back', e.userId, e.eventId, e.occurredAt);
  } else {
    const e = input.event;
    if (e.kind === 'upgrade') {
      const unlocks = unlockedBenefits(rules, e.previousTier, e.newTier, e.benefits);
      emit('tier_upgrade', e.userId, e.eventId, e.decidedAt, categoriesOfBenefits(reco, unlocks), unlocks);
    }
  }
  return { kind: 'applied', state: next, outputs };
}

export const recoMembersLogic: WorkerLogic<RecoMemberState, RecoInput, RecoView> = {
  name: recoMembersName,
  initialState: () => emptyMemberState(),
  decide: decideRecoMember,
  projections: (memberId, state): Projection[] =>
    state.items.length > 0 ? [{ name: membersProjection, member: memberId, score: 0 }] : [],
};
