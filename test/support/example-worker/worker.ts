/** Wiring of the example worker: reads behavior.events (Avro), writes state and, for refused inputs, dead letters. */
import type { BehaviorEventValue } from '../../../shared/contracts/behavior-event.js';
import type { WorkerDefinition } from '../../../shared/runtime/worker-definition.js';
import { AvroInputDecoder, type AvroBodyDecoder } from '../../../shared/registry/avro-input-decoder.js';
import { workerEntry } from '../../../services/index.js';
import { streakLogic, type StreakState } from './decide.js';

export const visitStreakWorker: WorkerDefinition<StreakState, BehaviorEventValue> = {
  ...streakLogic,
  inputs: ['behavior.events'],
  outputs: ['activity.dlq'],
};

export function visitStreakDecoder(registry: AvroBodyDecoder): AvroInputDecoder<BehaviorEventValue> {
  return new AvroInputDecoder<BehaviorEventValue>(registry);
}

/** Its registry entry: what services/index.ts would hold under `'visit-streak'`. */
export const visitStreakEntry = workerEntry({
  definition: visitStreakWorker,
  decoder: (codec) => visitStreakDecoder(codec),
  headline: (s) => ({ streak: s.streak, best: s.best }),
});
