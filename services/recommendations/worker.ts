/**
 * Wiring of the two recommendation workers:
 * - reco-members reads behavior.events, member.churn-risk and member.tier-changes (keyed by
 *   member), writes reco.item-updates (keyed by item) and member.recommendations;
 * - reco-items reads reco.item-updates and keeps each item's statistics.
 */
import type { Decoded, InputDecoder, InputRecord } from '../../shared/kernel/types.js';
import type { WorkerDefinition } from '../../shared/runtime/worker-definition.js';
import { AvroInputDecoder, type AvroBodyDecoder } from '../../shared/registry/avro-input-decoder.js';
import type { ItemUpdateValue, RecoInput } from './inputs.js';
import { recoItemsLogic, type RecoItemState } from './item-logic.js';
import { recoMembersLogic, type RecoMemberState } from './member-logic.js';
import type { RecoView } from './model.js';
import { recoViewLoader } from './view-redis.js';

export const recoMembersWorker: WorkerDefinition<RecoMemberState, RecoInput, RecoView> = {
  ...recoMembersLogic,
  inputs: ['behavior.events', 'member.churn-risk', 'member.tier-changes'],
  outputs: ['reco.item-updates', 'member.recommendations', 'activity.dlq'],
  view: recoViewLoader,
};

export const recoItemsWorker: WorkerDefinition<RecoItemState, ItemUpdateValue> = {
  ...recoItemsLogic,
  inputs: ['reco.item-updates'],
  outputs: ['activity.dlq'],
};

/** Which of its three inputs a record comes from, by the physical topic's suffix. */
function sourceOf(topic: string): RecoInput['source'] | null {
  if (topic.endsWith('.behavior.events')) return 'behavior';
  if (topic.endsWith('.member.churn-risk')) return 'churn';
  if (topic.endsWith('.member.tier-changes')) return 'tier';
  return null;
}

export class RecoMembersDecoder implements InputDecoder<RecoInput> {
  private readonly avro: AvroInputDecoder<{ userId: string; eventId: string }>;
  constructor(registry: AvroBodyDecoder) {
    this.avro = new AvroInputDecoder(registry);
  }
  async decode(record: InputRecord): Promise<Decoded<RecoInput>> {
    const source = sourceOf(record.topic);
    if (source === null)
      return {
        kind: 'rejected',
        rejection: { reason: 'unknown_topic', message: `reco-members does not read ${record.topic}` },
        eventId: null,
        memberId: null,
      };
    const d = await this.avro.decode(record);
    if (d.kind === 'rejected') return d;
    return { ...d, event: { source, event: d.event } as RecoInput };
  }
}

export const recoMembersDecoder = (registry: AvroBodyDecoder): RecoMembersDecoder => new RecoMembersDecoder(registry);
/** reco.item-updates: Avro through the registry, keyed by itemId (the "member" of reco-items is the item). */
export const recoItemsDecoder = (registry: AvroBodyDecoder): AvroInputDecoder<ItemUpdateValue> =>
  new AvroInputDecoder<ItemUpdateValue>(registry, 'itemId');
