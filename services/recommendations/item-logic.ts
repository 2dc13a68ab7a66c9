/**
 * reco-items: per item, its member count and bounded co-item list (shared/reco/cooccurrence.ts),
 * fed by reco.item-updates keyed by item. Exactly once: the kernel drops redelivered records
 * (per-item offset watermarks); an update re-published upstream after a crash arrives at a
 * new offset with its original source position, and is dropped because it is not above the
 * last source offset this item applied from that behavior.events partition (each partition's
 * updates reach an item in source order: reco-members publishes in input order and commits
 * only after publishing).
 */
import type { DecideContext, Decision, Projection, WorkerLogic } from '../../shared/kernel/types.js';
import { applyDeltaInPlace, itemStateFromJson, itemStateToJson } from '../../shared/reco/cooccurrence.js';
import type { ItemUpdateValue } from './inputs.js';
import { recoItemStateCodec } from './item-codec.js';
import type { RecoItemState } from './item-state.js';

export type { RecoItemState } from './item-state.js';

export const recoItemsName = 'reco-items';

/** Projections: every item by member count (as −n, so ascending order is most members first, ties by id), and the same per category. */
export const popularityProjection = 'popularity';
export const categoryProjection = (category: string): string => `category:${category}`;

export function emptyRecoItemState(): RecoItemState {
  return { n: 0, category: null, co: [], evictions: 0, applied: {} };
}

export function decideRecoItem(state: RecoItemState, u: ItemUpdateValue, ctx: DecideContext): Decision<RecoItemState> {
  const source = String(u.sourcePartition);
  const last = state.applied[source];
  if (last !== undefined && u.sourceOffset <= last) return { kind: 'applied', state, outputs: [] };
  const s = itemStateFromJson(state);
  applyDeltaInPlace(
    s,
    {
      id: u.eventId,
      itemId: u.itemId,
      addsMember: u.addsMember,
      category: u.category,
      coItems: u.coItems,
      at: u.occurredAt,
    },
    ctx.rules.reco.coItemsPerItem,
  );
  return {
    kind: 'applied',
    state: { ...itemStateToJson(s), applied: { ...state.applied, [source]: u.sourceOffset } },
    outputs: [],
  };
}

export const recoItemsLogic: WorkerLogic<RecoItemState, ItemUpdateValue> = {
  name: recoItemsName,
  initialState: () => emptyRecoItemState(),
  stateCodec: recoItemStateCodec,
  decide: decideRecoItem,
  projections(itemId, state): Projection[] {
    if (state.n <= 0) return [];
    const rows: Projection[] = [{ name: popularityProjection, member: itemId, score: -state.n }];
    if (state.category !== null)
      rows.push({ name: categoryProjection(state.category), member: itemId, score: -state.n });
    return rows;
  },
};
