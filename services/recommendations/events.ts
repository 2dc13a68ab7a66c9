/** The values reco-members publishes: item updates (internal) and recommendation events. */
import type { Rules } from '../../shared/config/rules.js';
import type { ItemDelta } from '../../shared/reco/cooccurrence.js';
import type { RecoTrigger } from '../../shared/reco/member.js';
import type { OutputEvent } from '../../shared/kernel/types.js';
import type { ItemUpdateValue } from './inputs.js';
import { recoModelVersion, type RankedItem } from './model.js';

/** A member.recommendations value (schemas/member.recommendations.avsc). */
export interface RecommendationValue {
  eventId: string;
  sourceEventId: string;
  userId: string;
  trigger: RecoTrigger;
  items: RankedItem[];
  unlocks: string[];
  modelVersion: string;
  rulesVersion: string;
  occurredAt: number;
}

export function recommendationId(trigger: RecoTrigger, sourceEventId: string): string {
  return `reco:${trigger}:${sourceEventId}`;
}

export function recommendationEvent(
  rules: Rules,
  userId: string,
  trigger: RecoTrigger,
  sourceEventId: string,
  occurredAt: number,
  items: RankedItem[],
  unlocks: string[] = [],
): OutputEvent {
  const value: RecommendationValue = {
    eventId: recommendationId(trigger, sourceEventId),
    sourceEventId,
    userId,
    trigger,
    items,
    unlocks,
    modelVersion: recoModelVersion(rules.reco),
    rulesVersion: rules.version,
    occurredAt,
  };
  return { topic: 'member.recommendations', key: userId, id: value.eventId, value: { ...value } };
}

/** The record of one item's share of a new item, keyed by that item; its position in behavior.events makes it deduplicable. */
export function itemUpdateEvent(
  delta: ItemDelta,
  userId: string,
  sourceEventId: string,
  source: { partition: number; offset: string },
): OutputEvent {
  const value: ItemUpdateValue = {
    eventId: delta.id,
    itemId: delta.itemId,
    addsMember: delta.addsMember,
    category: delta.category,
    coItems: delta.coItems,
    userId,
    sourceEventId,
    sourcePartition: source.partition,
    sourceOffset: Number(source.offset),
    occurredAt: delta.at,
  };
  return { topic: 'reco.item-updates', key: delta.itemId, id: delta.id, value: { ...value } };
}
