/**
 * The worker registry: every worker memberflow runs, in pipeline order. The CLI (`run`, `demo`, `replay`),
 * the benchmark and the tests read their worker lists from here; docs/ADDING-A-WORKER.md walks through adding one.
 */
import type { Rules } from '../shared/config/rules.js';
import type { InputDecoder } from '../shared/kernel/types.js';
import type { WorkerDefinition } from '../shared/runtime/worker-definition.js';
import type { AvroCodec } from '../shared/registry/codec.js';
import { behaviorEventsDecoder, behaviorEventsWorker } from './behavior-events/worker.js';
import { churnPredictionDecoder, churnPredictionWorker } from './churn-prediction/worker.js';
import { pointsAccrualDecoder, pointsAccrualWorker } from './points-accrual/worker.js';
import { availableOf, pendingOf } from './points-accrual/state.js';
import { recoItemsDecoder, recoItemsWorker, recoMembersDecoder, recoMembersWorker } from './recommendations/worker.js';
import { tierEvaluationDecoder, tierEvaluationWorker } from './tier-evaluation/worker.js';

/** A worker as the CLI and tests start it: its definition, how it decodes input, what a person compares. */
export interface WorkerEntry {
  // Each worker has its own state and event types; the registry only passes them through (`workerEntry` checks them).
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the worker's own state and event types
  definition: WorkerDefinition<any, any>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the worker's own event type
  decoder(codec: AvroCodec, rules: () => Rules): InputDecoder<any>;
  /** The figures `replay diff` shows for a member whose state differs (the full states are compared too). */
  headline(state: unknown): Record<string, unknown>;
}

/** A registry entry whose parts agree on the worker's state and event types. */
export function workerEntry<S, E, V>(e: {
  definition: WorkerDefinition<S, E, V>;
  decoder(codec: AvroCodec, rules: () => Rules): InputDecoder<E>;
  headline(state: S): Record<string, unknown>;
}): WorkerEntry {
  return { ...e, headline: (state) => e.headline(state as S) };
}

export const workers: Record<string, WorkerEntry> = {
  'behavior-events': workerEntry({
    definition: behaviorEventsWorker,
    decoder: behaviorEventsDecoder,
    headline: (s) => ({ stage: s.stage }),
  }),
  'points-accrual': workerEntry({
    definition: pointsAccrualWorker,
    decoder: (codec) => pointsAccrualDecoder(codec),
    headline: (s) => ({ available: availableOf(s), pending: pendingOf(s), debt: s.debt }),
  }),
  'tier-evaluation': workerEntry({
    definition: tierEvaluationWorker,
    decoder: (codec) => tierEvaluationDecoder(codec),
    headline: (s) => ({ tier: s.tier }),
  }),
  'churn-prediction': workerEntry({
    definition: churnPredictionWorker,
    decoder: (codec) => churnPredictionDecoder(codec),
    headline: (s) => ({ band: s.band }),
  }),
  'reco-members': workerEntry({
    definition: recoMembersWorker,
    decoder: (codec) => recoMembersDecoder(codec),
    headline: (s) => ({ items: s.items.length }),
  }),
  'reco-items': workerEntry({
    definition: recoItemsWorker,
    decoder: (codec) => recoItemsDecoder(codec),
    headline: (s) => ({ members: s.n }),
  }),
};

/** Every worker's name, in pipeline order. */
export function workerNames(): string[] {
  return Object.keys(workers);
}

/** A worker's definition by name (its state codec included, for stores that read its state). */
export function workerDefinition(name: string): WorkerEntry['definition'] {
  const found = workers[name];
  if (!found) throw new Error(`unknown worker ${name}: expected one of ${workerNames().join(', ')}`);
  return found.definition;
}
