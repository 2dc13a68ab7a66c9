import type { Rules } from '../shared/config/rules.js';
import type { InputDecoder, WorkerDefinition } from '../shared/kernel/types.js';
import type { AvroCodec } from '../shared/registry/codec.js';
import { churnPredictionDecoder, churnPredictionWorker } from './churn-prediction/worker.js';
import { behaviorEventsDecoder, behaviorEventsWorker } from './behavior-events/worker.js';
import { pointsAccrualDecoder, pointsAccrualWorker } from './points-accrual/worker.js';
import { tierEvaluationDecoder, tierEvaluationWorker } from './tier-evaluation/worker.js';
import { recoItemsDecoder, recoItemsWorker, recoMembersDecoder, recoMembersWorker } from './recommendations/worker.js';

/** A worker as the CLI and tests start it: its definition and how it decodes input. */
export interface WorkerEntry {
  // Each worker has its own state and event types; the registry only passes them through.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  definition: WorkerDefinition<any, any>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  decoder(codec: AvroCodec, rules: () => Rules): InputDecoder<any>;
}

export const workers: Record<string, WorkerEntry> = {
  'behavior-events': { definition: behaviorEventsWorker, decoder: behaviorEventsDecoder },
  'points-accrual': { definition: pointsAccrualWorker, decoder: (codec) => pointsAccrualDecoder(codec) },
  'tier-evaluation': { definition: tierEvaluationWorker, decoder: (codec) => tierEvaluationDecoder(codec) },
  'churn-prediction': { definition: churnPredictionWorker, decoder: (codec) => churnPredictionDecoder(codec) },
  'reco-members': { definition: recoMembersWorker, decoder: (codec) => recoMembersDecoder(codec) },
  'reco-items': { definition: recoItemsWorker, decoder: (codec) => recoItemsDecoder(codec) },
};

export function workerNames(): string[] {
  return Object.keys(workers);
}

/** A worker's definition by name (its state codec included, for stores that read its state). */
export function workerDefinition(name: string): WorkerEntry['definition'] {
  const entry = workers[name];
  if (!entry) throw new Error(`unknown worker ${name}: expected one of ${workerNames().join(', ')}`);
  return entry.definition;
}
