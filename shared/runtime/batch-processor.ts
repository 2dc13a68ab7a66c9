import { decodeSafely } from '../kernel/decode-safely.js';
import type { Rules } from '../config/rules.js';
import type { Logger } from '../log.js';
import type { LogicalTopic } from '../contracts/topics.js';
import { ReplicationError } from '../redis/client.js';
import {
  FencedWriteError,
  PointerMovedError,
  type Unsettled,
  type LoadedMember,
  type MemberStore,
  type MemberWrite,
  type TickCandidates,
  type TickJournal,
  type TimerUpdate,
} from '../redis/member-store.js';
import { deadLetter } from '../kernel/dead-letter.js';
import { decideContext } from '../kernel/decide-context.js';
import { StateLostError } from '../redis/live-pointer.js';
import type { Failpoint } from '../kernel/failpoints.js';
import {
  dueMembers,
  stepMember,
  stepTick,
  trimOutbox,
  type MemberRecord,
  type StepLimits,
  type StepOutcome,
} from '../kernel/member-record.js';
import { forwardedTick, tickId } from '../kernel/ticks.js';
import { compareOffsets, topicPartitionId } from '../kernel/offsets.js';
import type { Decoded, InputDecoder, InputRecord, OutputEvent, Projection, WorkerLogic } from '../kernel/types.js';
import type { ViewLoader } from './worker-definition.js';

export interface BatchHooks {
  heartbeat(): Promise<void>;
  /** False once the consumer lost the partition or is stopping: stop before writing. */
  isActive(): boolean;
  /** This batch's publisher (its Kafka transaction's), in place of the processor's own. */
  publisher?: Publisher;
}

export interface BatchReport {
  records: number;
  outcomes: Record<StepOutcome | 'undecodable', number>;
  rejections: Record<string, number>;
  outputs: number;
  members: number;
  fencedRetries: number;
  /** Attempts redone because Redis replicas had not acknowledged the writes in time (REDIS_WAIT_REPLICAS). */
  replicationRetries: number;
  /** Seconds each attempt's fenced state write took (scripts, pipeline and replication check). */
  stateWriteSeconds: number[];
  /** Bytes of member records the batch wrote (the last attempt's). */
  stateBytes: number;
  aborted: boolean;
  /** The batch was refused because the worker's live pointer moved on: the generation must stop. */
  pointerMoved: boolean;
  /** The batch was refused because Redis lost the worker's data: the worker must stop (rebuild). */
  stateLost: StateLostError | null;
  /**
   * Per topic-partition, what to drop once the batch's offsets are committed: the members'
   * outbox fields of it, members earlier batches left entries to, the journal fields naming
   * them, and the ticks journaled.
   */
  settle: Map<string, Settle>;
}

export interface Publisher {
  publish(outputs: readonly OutputEvent[]): Promise<void>;
}

/** The report of a batch before it ran (and of one that held no records: only transaction markers). */
export function emptyReport(): BatchReport {
  return {
    records: 0,
    outcomes: { applied: 0, rejected: 0, duplicate: 0, redelivered: 0, undecodable: 0 },
    rejections: {},
    outputs: 0,
    members: 0,
    fencedRetries: 0,
    replicationRetries: 0,
    stateWriteSeconds: [],
    stateBytes: 0,
    aborted: false,
    pointerMoved: false,
    stateLost: null,
    settle: new Map(),
  };
}

const maxFencedAttempts = 8;

/**
 * The kernel's batch step, between Kafka fetch and offset commit:
 * decode → load all members in one round trip → run `decide` in order →
 * one fenced write per member (one pipeline) → publish outputs in input order.
 * Anything already applied (at or below a member's watermark) re-publishes its
 * stored outputs instead of running again.
 */
/** What a batch processor works with: the worker's logic and decoder, its store and publisher, its rules. */
export interface BatchProcessorOptions<S, E, V> {
  logic: WorkerLogic<S, E, V>;
  decoder: InputDecoder<E>;
  store: MemberStore<S>;
  publisher: Publisher;
  /** The rules in force (a promote may change them between batches). */
  rules: () => Rules;
  limits: StepLimits;
  log: Logger;
  /** Fault injection for tests (see failpoints.ts). */
  failpoint?: Failpoint | undefined;
  forwardTicksTo?: LogicalTopic | undefined;
  /** Read-only data for `decide` (WorkerDefinition.view), loaded per attempt after the members. */
  loadView?: ViewLoader<S, E, V> | undefined;
  /**
   * Inputs whose outputs reached Kafka before (a rebuild below the group's old committed
   * offsets): their state is applied, their outputs are not published again.
   */
  alreadyPublished?: ((record: InputRecord) => boolean) | undefined;
}

export class BatchProcessor<S, E, V = unknown> {
  private readonly logic: WorkerLogic<S, E, V>;
  private readonly decoder: InputDecoder<E>;
  private readonly store: MemberStore<S>;
  private readonly publisher: Publisher;
  private readonly rules: () => Rules;
  private readonly limits: StepLimits;
  private readonly log: Logger;
  private readonly failpoint: Failpoint;
  private readonly forwardTicksTo: LogicalTopic | undefined;
  private readonly loadView: ViewLoader<S, E, V> | undefined;
  private readonly alreadyPublished: ((record: InputRecord) => boolean) | undefined;

  constructor(o: BatchProcessorOptions<S, E, V>) {
    this.logic = o.logic;
    this.decoder = o.decoder;
    this.store = o.store;
    this.publisher = o.publisher;
    this.rules = o.rules;
    this.limits = o.limits;
    this.log = o.log;
    this.failpoint = o.failpoint ?? (() => undefined);
    this.forwardTicksTo = o.forwardTicksTo;
    this.loadView = o.loadView;
    this.alreadyPublished = o.alreadyPublished;
  }

  async process(records: readonly InputRecord[], hooks: BatchHooks): Promise<BatchReport> {
    const report: BatchReport = { ...emptyReport(), records: records.length };
    if (records.length === 0) return report;
    const decoded: Item<E>[] = await Promise.all(
      records.map((r) =>
        r.refusal !== undefined
          ? Promise.resolve({ kind: 'rejected', rejection: r.refusal, eventId: null, memberId: null } as const)
          : r.tick !== undefined
            ? Promise.resolve({ kind: 'tick', time: r.tick } as const)
            : decodeSafely(this.decoder, r, (err) =>
                this.log.error(
                  { err: { name: err.name }, offset: r.offset },
                  'the decoder threw: the record goes to the dead-letter topic',
                ),
              ),
      ),
    );
    const eventMembers = [...new Set(decoded.flatMap((d) => (d.kind === 'event' ? [d.memberId] : [])))];
    const firstOffsets = offsetPerTopicPartition(records, 'first');
    const timed = this.logic.nextDue !== undefined && this.logic.onTick !== undefined;

    for (let attempt = 1; ; attempt++) {
      // Ticks need the members that may be due: the partition's timer index, plus any tick already applied (journal).
      const ticks = timed
        ? await this.store.tickCandidates(tickQueries(records))
        : { due: new Map<string, string[]>(), journals: new Map<string, string[]>() };
      const memberIds = [
        ...new Set([...eventMembers, ...[...ticks.due.values()].flat(), ...[...ticks.journals.values()].flat()]),
      ];
      report.members = memberIds.length;
      const { members: loaded, leftovers } = await this.store.loadBatch(memberIds, firstOffsets);
      // Outboxes only where this batch may redeliver (a watermark at or past its first offset): after a crash or rebalance.
      const redelivering = [...loaded.values()].filter((m) =>
        [...firstOffsets].some(
          ([tp, first]) => m.record.watermarks[tp] !== undefined && compareOffsets(m.record.watermarks[tp], first) >= 0,
        ),
      );
      if (redelivering.length > 0) {
        const outboxes = await this.store.loadOutboxes(redelivering.map((m) => m.memberId));
        for (const m of redelivering) m.record = { ...m.record, outbox: outboxes.get(m.memberId) ?? [] };
      }
      const view = this.loadView ? await this.loadView(viewRequest(loaded, decoded)) : undefined;
      const { outputs, writes, tally, journals, timers, working } = this.applyAll(
        records,
        decoded,
        loaded,
        firstOffsets,
        ticks,
        view,
      );
      await hooks.heartbeat();
      if (!hooks.isActive()) {
        report.aborted = true;
        return report;
      }
      let committed: { unsettled: Map<string, string>; stateBytes: number };
      const writeStarted = performance.now();
      try {
        // Marks before publishing: whatever this batch publishes lies at or below them (a promote finishes the old generation up to there).
        const applied = writes.length > 0 || outputs.length > 0 ? offsetPerTopicPartition(records, 'last') : undefined;
        committed = await this.store.commit(writes, { journals, timers, ...(applied ? { applied } : {}) });
      } catch (err) {
        report.stateWriteSeconds.push((performance.now() - writeStarted) / 1000);
        if (err instanceof StateLostError) {
          this.log.fatal({ err }, "Redis lost this worker's data: batch dropped, the worker stops");
          report.aborted = true;
          report.stateLost = err;
          return report;
        }
        if (err instanceof PointerMovedError) {
          this.log.warn(
            { members: err.memberIds.length },
            'live pointer moved on: batch dropped, this generation stops',
          );
          report.aborted = true;
          report.pointerMoved = true;
          return report;
        }
        if (err instanceof ReplicationError) {
          // Not durable yet: a failover could lose these writes after the offsets are committed.
          // Redo the batch once the replica catches up (it then finds the inputs applied, or lost).
          if (report.replicationRetries++ === 0)
            this.log.warn({ err }, 'Redis replicas behind: redoing the batch until its writes are replicated');
          await new Promise((r) => setTimeout(r, 250));
          continue;
        }
        if (err instanceof FencedWriteError && attempt < maxFencedAttempts) {
          report.fencedRetries++;
          this.log.warn(
            { members: err.memberIds.length, attempt },
            'fenced write lost to another writer; reloading batch',
          );
          continue;
        }
        throw err;
      }
      if (writes.length > 0 || journals.length > 0)
        report.stateWriteSeconds.push((performance.now() - writeStarted) / 1000);
      report.stateBytes = committed.stateBytes;
      if (writes.length > 0) await this.failpoint('after-state-write');
      Object.assign(report.outcomes, tally.outcomes);
      report.rejections = tally.rejections;
      await (hooks.publisher ?? this.publisher).publish(outputs);
      if (writes.length > 0) await this.failpoint('after-publish');
      report.outputs = outputs.length;
      report.settle = settleList(records, working, leftovers, committed.unsettled);
      return report;
    }
  }

  private applyAll(
    records: readonly InputRecord[],
    decoded: readonly Item<E>[],
    loaded: Map<string, LoadedMember<S>>,
    firstOffsets: Map<string, string>,
    ticks: TickCandidates,
    view: V | undefined,
  ) {
    const rules = this.rules();
    const working = new Map<string, { version: number; record: LoadedMember<S>['record']; changed: boolean }>();
    for (const [id, m] of loaded) {
      let record = m.record;
      for (const [tp, first] of firstOffsets) record = trimOutbox(record, tp, first);
      working.set(id, { version: m.version, record, changed: false });
    }
    const outputs: OutputEvent[] = [];
    const journals: TickJournal[] = [];
    const tally = {
      outcomes: { applied: 0, rejected: 0, duplicate: 0, redelivered: 0, undecodable: 0 },
      rejections: {} as Record<string, number>,
    };
    const count = (reason: string | undefined) => {
      if (reason) tally.rejections[reason] = (tally.rejections[reason] ?? 0) + 1;
    };
    records.forEach((record, i) => {
      const d = decoded[i]!;
      const published = this.alreadyPublished?.(record) ?? false;
      const emit = (...o: OutputEvent[]): void => {
        if (!published) outputs.push(...o);
      };
      if (d.kind === 'tick') {
        const tp = topicPartitionId(record.topic, record.partition);
        const journaled = ticks.journals.get(`${tp}@${record.offset}`);
        // First time through: every candidate whose own state says it is due. After a crash: exactly the members recorded then.
        const members =
          journaled ??
          dueMembers(
            this.logic,
            [...(ticks.due.get(tp) ?? []), ...working.keys()].map((id) => [id, working.get(id)?.record]),
            d.time,
          );
        if (!journaled && members.length > 0) journals.push({ tp, offset: record.offset, members });
        const tick = { rules, time: d.time, tickId: tickId(record), offset: record.offset };
        for (const memberId of members) {
          const member = working.get(memberId);
          if (!member) continue;
          const step = stepTick(this.logic, member.record, memberId, record, tick, this.limits);
          member.record = step.record;
          member.changed ||= step.changed;
          count(step.rejection?.reason);
          if (step.rejection)
            this.log.error({ memberId, tick: tick.tickId, reason: step.rejection.reason }, step.rejection.message);
          emit(...step.outputs);
        }
        if (this.forwardTicksTo) emit(forwardedTick(record, d.time, this.forwardTicksTo));
        return;
      }
      if (d.kind === 'rejected') {
        tally.outcomes.undecodable++;
        count(d.rejection.reason);
        emit(deadLetter(this.logic.name, record, d.rejection, d));
        return;
      }
      const member = working.get(d.memberId)!;
      const ctx = decideContext(rules, record, view);
      const step = stepMember(this.logic, member.record, { record, ...d }, ctx, this.limits);
      member.record = step.record;
      member.changed ||= step.changed;
      tally.outcomes[step.outcome]++;
      count(step.rejection?.reason);
      emit(...step.outputs);
    });
    const writes: MemberWrite<S>[] = [];
    for (const [memberId, m] of working) {
      if (!m.changed) continue;
      const write: MemberWrite<S> = {
        memberId,
        expectedVersion: m.version,
        record: m.record,
        loadedOutbox: loaded.get(memberId)?.record.outbox ?? [],
      };
      if (this.logic.projections)
        write.projections = projectionChanges(
          this.logic,
          memberId,
          loaded.get(memberId)?.record.state ?? null,
          m.record.state,
        );
      writes.push(write);
    }
    // Every member this batch touched gets its next due time indexed again (also after a crash, so the index heals).
    const timers: TimerUpdate[] = [];
    if (this.logic.nextDue) {
      const tps = [...firstOffsets.keys()];
      for (const [memberId, m] of working) {
        const due = m.record.state === null ? null : this.logic.nextDue(m.record.state);
        for (const tp of tps) timers.push({ tp, memberId, due });
      }
    }
    return { outputs, writes, tally, journals, timers, working };
  }
}

type Item<E> = Decoded<E> | { kind: 'tick'; time: number };

export interface Settle {
  /** Members and their outbox fields of the partition. */
  entries: Map<string, string[]>;
  leftovers: string[];
  journalFields: string[];
  tickOffsets: string[];
}

/**
 * What the runtime drops after the offsets are committed (BatchReport.settle). Only outbox entries
 * at or below the batch's last offset: a batch redone in smaller pieces (after a crash between state
 * write and commit) holds members whose later entries belong to the pieces still to come, and those
 * pieces find their inputs applied and publish exactly what is left in the outbox.
 */
export function settleList<S>(
  records: readonly InputRecord[],
  held: Iterable<[string, { record: MemberRecord<S> }]>,
  leftovers: Unsettled,
  written: ReadonlyMap<string, string>,
): BatchReport['settle'] {
  const settle: BatchReport['settle'] = new Map();
  const lastOffsets = offsetPerTopicPartition(records, 'last');
  const of = (tp: string): Settle => {
    let s = settle.get(tp);
    if (!s) settle.set(tp, (s = { entries: new Map(), leftovers: [], journalFields: [], tickOffsets: [] }));
    return s;
  };
  for (const [memberId, { record }] of held) {
    for (const e of record.outbox) {
      const last = lastOffsets.get(e.tp);
      if (last === undefined || compareOffsets(e.offset, last) > 0) continue;
      const entries = of(e.tp).entries;
      const fields = entries.get(memberId) ?? [];
      fields.push(`${e.tp}@${e.offset}`);
      entries.set(memberId, fields);
    }
  }
  for (const [tp, u] of leftovers) {
    of(tp).leftovers.push(...u.members);
    of(tp).journalFields.push(...u.fields);
  }
  for (const [tp, field] of written) of(tp).journalFields.push(field);
  for (const r of records)
    if (r.tick !== undefined) of(topicPartitionId(r.topic, r.partition)).tickOffsets.push(r.offset);
  return settle;
}

function viewRequest<S, E>(
  loaded: ReadonlyMap<string, LoadedMember<S>>,
  decoded: readonly Item<E>[],
): { states: Map<string, S | null>; events: E[] } {
  const states = new Map<string, S | null>();
  for (const [id, m] of loaded) states.set(id, m.record.state);
  const events: E[] = [];
  for (const d of decoded) if (d.kind === 'event') events.push(d.event);
  return { states, events };
}

const rowKey = (p: Projection): string => `${p.name.length}:${p.name}:${p.member}`;

/** The projection rows to write for a state change: new or changed rows, and rows the new state no longer has. */
export function projectionChanges<S, E, V>(
  logic: WorkerLogic<S, E, V>,
  memberId: string,
  before: S | null,
  after: S | null,
): { upsert: Projection[]; remove: Projection[] } {
  const old = new Map((before === null ? [] : logic.projections!(memberId, before)).map((p) => [rowKey(p), p]));
  const now = after === null ? [] : logic.projections!(memberId, after);
  const upsert = now.filter((p) => old.get(rowKey(p))?.score !== p.score);
  const kept = new Set(now.map(rowKey));
  const remove = [...old.entries()].filter(([k]) => !kept.has(k)).map(([, p]) => p);
  return { upsert, remove };
}

function tickQueries(records: readonly InputRecord[]): { tp: string; maxTime: number; offsets: string[] }[] {
  const byTp = new Map<string, { tp: string; maxTime: number; offsets: string[] }>();
  for (const r of records) {
    if (r.tick === undefined) continue;
    const tp = topicPartitionId(r.topic, r.partition);
    const q = byTp.get(tp) ?? { tp, maxTime: 0, offsets: [] };
    q.maxTime = Math.max(q.maxTime, r.tick);
    q.offsets.push(r.offset);
    byTp.set(tp, q);
  }
  return [...byTp.values()];
}

/** Per topic-partition, the batch's lowest (`first`) or highest (`last`) offset. */
function offsetPerTopicPartition(records: readonly InputRecord[], which: 'first' | 'last'): Map<string, string> {
  const sign = which === 'first' ? -1 : 1;
  const found = new Map<string, string>();
  for (const r of records) {
    const tp = topicPartitionId(r.topic, r.partition);
    const seen = found.get(tp);
    if (seen === undefined || Math.sign(compareOffsets(r.offset, seen)) === sign) found.set(tp, r.offset);
  }
  return found;
}
