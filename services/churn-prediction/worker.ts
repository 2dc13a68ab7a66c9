import type { BehaviorEventValue } from '../../shared/contracts/behavior-event.js';
import type { WorkerDefinition } from '../../shared/runtime/worker-definition.js';
import { AvroInputDecoder, type AvroBodyDecoder } from '../../shared/registry/avro-input-decoder.js';
import { churnLogic } from './decide.js';
import type { ChurnState } from './state.js';

/** Wiring: churn-prediction reads behavior.events (ticks included) and writes member.churn-risk. */
export const churnPredictionWorker: WorkerDefinition<ChurnState, BehaviorEventValue> = {
  ...churnLogic,
  inputs: ['behavior.events'],
  outputs: ['member.churn-risk', 'activity.dlq'],
};

export function churnPredictionDecoder(registry: AvroBodyDecoder): AvroInputDecoder<BehaviorEventValue> {
  return new AvroInputDecoder<BehaviorEventValue>(registry);
}
