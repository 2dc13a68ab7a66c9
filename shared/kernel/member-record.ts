import { createHash } from 'node:crypto';
import type { Rules } from '../config/rules.js';
import { avroType } from '../contracts/schemas.js';
import { deadLetter } from './dead-letter.js';
import { jsonSizeBound } from './json-size-bound.js';
import { compareOffsets, topicPartitionId } from './offsets.js';
import type {
  DecideContext,
  Decision,
  InputRecord,
  OutputEvent,
  Rejection,
  StateCodec,
  TickContext,
  WorkerLogic,
} from './types.js';

/**
 * What the kernel keeps per member next to the worker's own state, so that
 * every input is applied exactly once:
 * - `watermarks`: the last applied offset per input topic-partition; an input
 *   at or below it was applied already (redelivery after a crash or reset);
 * - `recentIds`: fingerprints (eventFingerprint) of the last N applied event ids,
 *   to recognise upstream duplicates that arrive at a new offset; an input that is the
 *   only copy of its id (memberflow's own transactional outputs) leaves none;
 * - `outbox`: the outputs of applied inputs whose offsets are not committed yet,
 *   re-published verbatim on redelivery instead of being recomputed. The runtime
 *   drops them once the offsets are committed (MemberStore.dropCommitted).
 */
export interface MemberRecord<S> {
  state: S | null;
  watermarks: Record<string, string>;
  recentIds: string[];
  outbox: OutboxEntry[];
}

/** Bytes of one recent-id fingerprint. */
export const fingerprintBytes = 8;

/**
 * A fixed-size stand-in for an event id in the recent-id list: the first 8 bytes of its
 * SHA-256, as 11 base64url characters. Fixed size keeps a member's bookkeeping bounded
 * whatever the ids' length; a cryptographic hash keeps a producer from crafting an id that
 * passes for another member's recent one (a false duplicate needs a 64-bit preimage).
 */
export function eventFingerprint(eventId: string): string {
  return createHash('sha256').update(eventId).digest().subarray(0, fingerprintBytes).toString('base64url');
}

/** Rejection code of an input that would take a member's state over `StepLimits.maxStateBytes`. */
export const stateTooLarge = 'state_too_large';

const jsonCodec: StateCodec<never> = {
  encode: (s) => JSON.stringify(s),
  decode: (t) => JSON.parse(t) as never,
  sizeBound: jsonSizeBound,
};

/** The worker's storage encoding of its state (JSON unless it has its own). */
export function stateCodecOf<S>(logic: Pick<WorkerLogic<S, unknown>, 'stateCodec'>): StateCodec<S> {
  return logic.stateCodec ?? jsonCodec;
}

/**
 * The last encoding of each state object the kernel sized: the store writes it without
 * encoding again. Keyed by the object a decision returned (states are values: a decision
 * returns a new object or the same unchanged one).
 */
const encodedStates = new WeakMap<object, string>();

/** A state's storage text, from the cache when the kernel already sized it. */
export function encodeState<S>(logic: Pick<WorkerLogic<S, unknown>, 'stateCodec'>, state: S): string {
  if (typeof state === 'object' && state !== null) {
    const cached = encodedStates.get(state);
    if (cached !== undefined) return cached;
  }
  const text = stateCodecOf(logic).encode(state);
  if (typeof state === 'object' && state !== null) encodedStates.set(state, text);
  return text;
}

/** Refuses a decision whose state would be larger than the cap: the same input is refused in every run. */
function capState<S>(
  decision: Decision<S>,
  logic: Pick<WorkerLogic<S, unknown>, 'stateCodec' | 'name'>,
  maxBytes: number,
): Decision<S> {
  if (decision.kind !== 'applied') return decision;
  const codec = stateCodecOf(logic);
  // Nearly every state is far below the cap: a bound settles it without encoding.
  if (codec.sizeBound && codec.sizeBound(decision.state, maxBytes) <= maxBytes) return decision;
  const text = codec.encode(decision.state);
  if (typeof decision.state === 'object' && decision.state !== null) encodedStates.set(decision.state, text);
  // Most states are far below the cap: a UTF-8 length is needed only near it.
  const bytes = text.length * 3 <= maxBytes ? text.length : Buffer.byteLength(text);
  if (bytes <= maxBytes) return decision;
  return {
    kind: 'rejected',
    rejection: {
      reason: stateTooLarge,
      message: `${logic.name} refused the input: the member's state would exceed the state size cap (state.maxBytes, ${maxBytes} bytes)`,
    },
  };
}

export interface OutboxEntry {
  tp: string;
  offset: string;
  outputs: OutputEvent[];
}

export function emptyRecord<S>(): MemberRecord<S> {
  return { state: null, watermarks: {}, recentIds: [], outbox: [] };
}

/**
 * Drops outbox entries of `tp` below `firstOffset`: the consumer only reaches
 * `firstOffset` after everything before it was published (either in this
 * session, or by whoever committed that position).
 */
export function trimOutbox<S>(record: MemberRecord<S>, tp: string, firstOffset: string): MemberRecord<S> {
  const kept = record.outbox.filter((e) => e.tp !== tp || compareOffsets(e.offset, firstOffset) >= 0);
  return kept.length === record.outbox.length ? record : { ...record, outbox: kept };
}

export type StepOutcome = 'applied' | 'rejected' | 'duplicate' | 'redelivered';

export interface StepInput<E> {
  record: InputRecord;
  eventId: string;
  memberId: string;
  event: E;
}

export interface StepResult<S> {
  record: MemberRecord<S>;
  outputs: OutputEvent[];
  outcome: StepOutcome;
  rejection?: Rejection;
  changed: boolean;
}

export interface StepLimits {
  recentIds: number;
  outboxEntries: number;
  /** Largest encoded state a member may have (bytes); an input that would pass it is refused. */
  maxStateBytes: number;
}

export function defaultLimits(rules: Rules): StepLimits {
  return {
    recentIds: rules.behavior.recentEventIdsPerMember,
    outboxEntries: 50_000,
    maxStateBytes: rules.state.maxBytes,
  };
}

/**
 * Applies one input to one member's record. Pure: the runtime runs it between
 * a Redis load and a fenced Redis write; the reference run uses it unchanged.
 */
export function stepMember<S, E, V>(
  logic: WorkerLogic<S, E, V>,
  current: MemberRecord<S>,
  input: StepInput<E>,
  ctx: DecideContext<V>,
  limits: StepLimits,
): StepResult<S> {
  const tp = topicPartitionId(input.record.topic, input.record.partition);
  const watermark = current.watermarks[tp];
  if (watermark !== undefined && compareOffsets(input.record.offset, watermark) <= 0) {
    const stored = current.outbox.find((e) => e.tp === tp && e.offset === input.record.offset);
    return { record: current, outputs: stored?.outputs ?? [], outcome: 'redelivered', changed: false };
  }
  const watermarks = { ...current.watermarks, [tp]: input.record.offset };
  // The list is checked even for an only copy: it may be the committed copy of an event whose
  // first copy came from a producer without transactions (the setting was switched on since).
  const fingerprint = current.recentIds.length > 0 || !input.record.onlyCopy ? eventFingerprint(input.eventId) : null;
  if (fingerprint !== null && current.recentIds.includes(fingerprint)) {
    return { record: { ...current, watermarks }, outputs: [], outcome: 'duplicate', changed: true };
  }
  const state = current.state ?? logic.initialState(input.memberId);
  const decision = capState(
    checkOutputs(decideSafely(logic, state, input.event, ctx), logic.name),
    logic,
    limits.maxStateBytes,
  );
  let outputs: OutputEvent[];
  let next: MemberRecord<S>;
  if (decision.kind === 'rejected') {
    // A refused event is not remembered as applied: a corrected resend with the same id must go through.
    outputs = [
      deadLetter(logic.name, input.record, decision.rejection, { eventId: input.eventId, memberId: input.memberId }),
    ];
    next = { ...current, watermarks };
  } else {
    outputs = decision.outputs;
    const recentIds =
      input.record.onlyCopy || fingerprint === null ? [...current.recentIds] : [...current.recentIds, fingerprint];
    if (recentIds.length > limits.recentIds) recentIds.splice(0, recentIds.length - limits.recentIds);
    next = { state: decision.state, watermarks, recentIds, outbox: current.outbox };
  }
  if (outputs.length > 0) {
    const outbox = [...next.outbox, { tp, offset: input.record.offset, outputs }];
    if (outbox.length > limits.outboxEntries) outbox.splice(0, outbox.length - limits.outboxEntries);
    next = { ...next, outbox };
  }
  const result: StepResult<S> = { record: next, outputs, outcome: decision.kind, changed: true };
  if (decision.kind === 'rejected') result.rejection = decision.rejection;
  return result;
}

/** Members a tick applies to: those whose own state is due by then, in id order (so replays match). */
export function dueMembers<S, E, V>(
  logic: WorkerLogic<S, E, V>,
  candidates: Iterable<[string, MemberRecord<S> | undefined]>,
  time: number,
): string[] {
  const due = new Set<string>();
  for (const [id, rec] of candidates) {
    if (!rec || rec.state === null || !logic.nextDue) continue;
    const at = logic.nextDue(rec.state);
    if (at !== null && at <= time) due.add(id);
  }
  return [...due].sort();
}

/**
 * Applies one tick to one member: the worker's due time-driven work. Like an
 * event, a tick at or below the member's watermark was applied already and
 * re-publishes its stored outputs.
 */
export function stepTick<S, E, V>(
  logic: WorkerLogic<S, E, V>,
  current: MemberRecord<S>,
  memberId: string,
  record: InputRecord,
  tick: TickContext,
  limits: StepLimits,
): StepResult<S> {
  const tp = topicPartitionId(record.topic, record.partition);
  const watermark = current.watermarks[tp];
  if (watermark !== undefined && compareOffsets(record.offset, watermark) <= 0) {
    const stored = current.outbox.find((e) => e.tp === tp && e.offset === record.offset);
    return { record: current, outputs: stored?.outputs ?? [], outcome: 'redelivered', changed: false };
  }
  if (current.state === null || !logic.onTick)
    return { record: current, outputs: [], outcome: 'duplicate', changed: false };
  const state = current.state;
  const decision = capState(
    checkOutputs(
      safely(logic.name, () => logic.onTick!(state, memberId, tick)),
      logic.name,
    ),
    logic,
    limits.maxStateBytes,
  );
  const watermarks = { ...current.watermarks, [tp]: record.offset };
  if (decision.kind === 'rejected') {
    // Nothing to park: a tick has no payload. Keep the state, move on, say why in the log.
    return {
      record: { ...current, watermarks },
      outputs: [],
      outcome: 'rejected',
      rejection: decision.rejection,
      changed: true,
    };
  }
  let next: MemberRecord<S> = { ...current, state: decision.state, watermarks };
  if (decision.outputs.length > 0) {
    const outbox = [...next.outbox, { tp, offset: record.offset, outputs: decision.outputs }];
    if (outbox.length > limits.outboxEntries) outbox.splice(0, outbox.length - limits.outboxEntries);
    next = { ...next, outbox };
  }
  return { record: next, outputs: decision.outputs, outcome: 'applied', changed: true };
}

/** The error's class only: its message may quote the input, and dead-letter texts never do. */
function errorName(err: unknown): string {
  return err instanceof Error ? err.name : 'a non-error';
}

function safely<S>(worker: string, run: () => Decision<S>): Decision<S> {
  try {
    return run();
  } catch (err) {
    return {
      kind: 'rejected',
      rejection: {
        reason: 'processing_error',
        message: `${worker} could not apply a tick: its rules threw ${errorName(err)}`,
      },
    };
  }
}

/**
 * A rule that throws on one event must not stop the partition: the event is
 * refused with `processing_error` (deterministically: the same input throws
 * the same way on a replay).
 */
function decideSafely<S, E, V>(logic: WorkerLogic<S, E, V>, state: S, event: E, ctx: DecideContext<V>) {
  try {
    return logic.decide(state, event, ctx);
  } catch (err) {
    return {
      kind: 'rejected' as const,
      rejection: {
        reason: 'processing_error',
        message: `${logic.name} could not apply the event: its rules threw ${errorName(err)}`,
      },
    };
  }
}

/**
 * An output its topic's schema would refuse could never be published: it
 * would be stored in the outbox and retried forever, stalling the partition.
 * Refuse the input instead (deterministically), before any state is written.
 */
function checkOutputs<S>(decision: Decision<S>, worker: string): Decision<S> {
  if (decision.kind !== 'applied') return decision;
  for (const out of decision.outputs) {
    const problems: string[] = [];
    avroType(out.topic).isValid(out.value, { errorHook: (path) => problems.push(path.join('.') || '(root)') });
    if (problems.length > 0) {
      return {
        kind: 'rejected',
        rejection: {
          reason: 'invalid_output',
          message: `${worker} produced a ${out.topic} event its schema refuses (fields: ${problems.slice(0, 5).join(', ')})`,
        },
      };
    }
  }
  return decision;
}
