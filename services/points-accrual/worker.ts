import type { BehaviorEventValue } from '../../shared/contracts/behavior-event.js';
import type { WorkerDefinition } from '../../shared/runtime/worker-definition.js';
import { AvroInputDecoder, type AvroBodyDecoder } from '../../shared/registry/avro-input-decoder.js';
import { pointsLogic } from './decide.js';
import type { PointsState } from './state.js';

/** Wiring: points-accrual reads behavior.events and writes the ledger; ticks travel on to the tier worker. */
export const pointsAccrualWorker: WorkerDefinition<PointsState, BehaviorEventValue> = {
  ...pointsLogic,
  inputs: ['behavior.events'],
  outputs: ['points.ledger', 'activity.dlq'],
  forwardTicksTo: 'points.ledger',
};

export function pointsAccrualDecoder(registry: AvroBodyDecoder): AvroInputDecoder<BehaviorEventValue> {
  return new AvroInputDecoder<BehaviorEventValue>(registry);
}
