import type { Rules } from '../config/rules.js';
import type { LogicalTopic } from '../contracts/topics.js';
import type { WorkerLogic } from '../kernel/types.js';
import type { RedisClient } from '../redis/client.js';

/** Loads a batch's read-only view (I/O): given the members' states before the batch and its events. */
export type ViewLoader<S, E, V> = (batch: {
  states: ReadonlyMap<string, S | null>;
  events: readonly E[];
}) => Promise<V>;

/** A worker plugged into the runtime: its pure logic (kernel) plus what it reads, writes and loads. */
export interface WorkerDefinition<S, E, V = unknown> extends WorkerLogic<S, E, V> {
  /** How to load the view `decide` reads (from Redis, for the given namespace). */
  view?(deps: { redis: RedisClient; namespace: string; rules: Rules }): ViewLoader<S, E, V>;
  inputs: readonly LogicalTopic[];
  outputs: readonly LogicalTopic[];
  /** Copy every tick to the same partition of this topic, so the next worker's log carries time too. */
  forwardTicksTo?: LogicalTopic;
}
