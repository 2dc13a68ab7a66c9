import type { Rules } from '../config/rules.js';
import type { LogicalTopic } from '../kafka/topics.js';

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

export interface DecideContext {
  rules: Rules;
  /** The record that carried the event: its broker timestamp is the only clock a decision may use. */
  record: { timestamp: number; sizeBytes: number };
}

/** What `decide` returns: the new state and the outputs, or a rejection (state unchanged). */
export type Decision<S> =
  | { kind: 'applied'; state: S; outputs: OutputEvent[] }
  | { kind: 'rejected'; rejection: Rejection };

/** The pure part of a worker: no clock, no randomness, no I/O. */
export interface WorkerLogic<S, E> {
  name: string;
  initialState(memberId: string): S;
  decide(state: S, event: E, ctx: DecideContext): Decision<S>;
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
}

/** Turns input bytes into a typed event (schema-level checks only). */
export interface InputDecoder<E> {
  decode(record: InputRecord): Promise<Decoded<E>>;
}

/** A worker plugged into the kernel: pure logic plus what it reads and writes. */
export interface WorkerDefinition<S, E> extends WorkerLogic<S, E> {
  inputs: readonly LogicalTopic[];
  outputs: readonly LogicalTopic[];
  /** Copy every tick to the same partition of this topic, so the next worker's log carries time too. */
  forwardTicksTo?: LogicalTopic;
}
