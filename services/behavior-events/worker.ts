import type { Rules } from '../../shared/config/rules.js';
import type { WorkerDefinition } from '../../shared/runtime/worker-definition.js';
import type { ActivityEvent } from '../../shared/contracts/activity-event.js';
import { ActivityDecoder, type AvroDecoder } from './decode.js';
import { behaviorLogic } from './decide.js';
import type { MemberProfile } from './profile.js';

/** Wiring: what the behavior-events worker reads and writes. */
export const behaviorEventsWorker: WorkerDefinition<MemberProfile, ActivityEvent> = {
  ...behaviorLogic,
  inputs: ['activity.events'],
  outputs: ['behavior.events', 'activity.dlq'],
  forwardTicksTo: 'behavior.events',
};

export function behaviorEventsDecoder(avro: AvroDecoder, rules: () => Rules): ActivityDecoder {
  return new ActivityDecoder(avro, rules);
}
