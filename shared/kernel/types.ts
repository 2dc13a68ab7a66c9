import type { Rules } from '../config/rules.js';
import type { LogicalTopic } from '../contracts/topics.js';

/** One Kafka record as the kernel sees it, independent of the client library. */
export interface InputRecord {
  /** Physical topic name (with namespace). */
  topic: string;
  partition: number;
  /** Offset as a decimal string: Kafka offsets are 64-bit. */
  offset: string;
  /** Record timestamp (producer create time or broker append time), epoch ms. */
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  /** Set when the record is a tick (see ticks.ts): the event time it carries. */
  tick?: number;
  /**
   * Set when no other copy of the record's event id can be read (topics.ts isOnlyCopy): the
   * kernel then keeps no fingerprint of it, as only an upstream duplicate needs one.
   */
  onlyCopy?: boolean;
  /** Set when the record is refused before decoding (a tick whose signature does not hold): it goes to the dead letters. */
  refusal?: Rejection;
}

/** An event a worker emits. `id` is deterministic: replays give the same id. */
export interface OutputEvent {
  topic: LogicalTopic;
  key: string;
  id: string;
  value: Record<string, unknown>;
  /** Only for forwarded ticks: they go to one partition, as JSON, not through the registry. */
  tick?: { partition: number; time: number };
}

/** Why an input was refused: a stable machine-readable code and a message for people. */
export interface Rejection {
  reason: string;
  message: string;
}

export type Decoded<E> =
  | { kind: 'event'; memberId: string; eventId: string; event: E }
  | { kind: 'rejected'; rejection: Rejection; eventId: string | null; memberId: string | null };

export interface DecideContext<V = unknown> {
  rules: Rules;
  /**
   * The record that carried the event: its broker timestamp is the only clock a decision
   * may use; its position (partition, offset) names the event's place in the log, for
   * outputs that a downstream consumer deduplicates by source position.
   */
  record: { timestamp: number; sizeBytes: number; topic: string; partition: number; offset: string };
  /**
   * Read-only data from outside the member's own record (see `WorkerDefinition.view`),
   * loaded once per batch before any decision. Absent for workers without a view.
   */
  view?: V;
}

/**
 * A row of a sorted-set projection of a member's state: written in the same atomic step as
 * the state (so it is never ahead or behind it), for other workers and tools to read.
 */
export interface Projection {
  /** Projection name, e.g. `popularity`; the store turns it into a namespaced Redis key. */
  name: string;
  member: string;
  score: number;
}

/** What `decide` returns: the new state and the outputs, or a rejection (state unchanged). */
export type Decision<S> =
  { kind: 'applied'; state: S; outputs: OutputEvent[] } | { kind: 'rejected'; rejection: Rejection };

/**
 * How a worker's state is stored: a compact text encoding where plain JSON costs most.
 * `decode(encode(s))` must equal `s` (deep equality), and `encode` must be deterministic:
 * the kernel's state size cap is measured on its output, in the live run and in the
 * reference run alike. Workers without one are stored as JSON.
 */
export interface StateCodec<S> {
  encode(state: S): string;
  decode(text: string): S;
  /**
   * A cheap upper bound on the UTF-8 bytes of `encode(state)` (it may stop counting once past
   * `stopAbove`). The size cap encodes a state only when its bound is over the cap; without a
   * bound, after every decision.
   */
  sizeBound?(state: S, stopAbove: number): number;
}

/** The pure part of a worker: no clock, no randomness, no I/O. */
export interface WorkerLogic<S, E, V = unknown> {
  name: string;
  initialState(memberId: string): S;
  /** Storage encoding of the state (JSON when absent). */
  stateCodec?: StateCodec<S>;
  decide(state: S, event: E, ctx: DecideContext<V>): Decision<S>;
  /**
   * Sorted-set rows this state puts in its worker's projections. The kernel writes the
   * difference from the previous state's rows inside the state's own fenced write.
   */
  projections?(memberId: string, state: S): Projection[];
  /**
   * Time-driven work (expiry, grace periods): the earliest event time at which
   * `onTick` has something to do for this member, or null. Time comes from tick
   * records in the input log, never from the wall clock, so a replay decides the same.
   */
  nextDue?(state: S): number | null;
  /** Called when a tick with time >= nextDue(state) reaches the member's partition. */
  onTick?(state: S, memberId: string, tick: TickContext): Decision<S>;
}

export interface TickContext {
  rules: Rules;
  /** Event time the tick carries, epoch ms. */
  time: number;
  /** Deterministic id of the tick (topic, partition, offset), to derive output ids from. */
  tickId: string;
  /** The tick record's offset in its partition (decimal string), for outputs ordered by input position. */
  offset: string;
}

/** Turns input bytes into a typed event (schema-level checks only). */
export interface InputDecoder<E> {
  decode(record: InputRecord): Promise<Decoded<E>>;
}
