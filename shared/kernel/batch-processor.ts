import type { Rules } from '../config/rules.js';
import type { Logger } from '../log.js';
import { FencedWriteError, type LoadedMember, type MemberStore, type MemberWrite } from '../redis/member-store.js';
import { deadLetter } from './dead-letter.js';
import type { Failpoint } from './failpoints.js';
import { stepMember, trimOutbox, type StepLimits, type StepOutcome } from './member-record.js';
import { compareOffsets, topicPartitionId } from './offsets.js';
import type { Decoded, InputDecoder, InputRecord, OutputEvent, WorkerLogic } from './types.js';

export interface BatchHooks {
  heartbeat(): Promise<void>;
  /** False once the consumer lost the partition or is stopping: stop before writing. */
  isActive(): boolean;
}

export interface BatchReport {
  records: number;
  outcomes: Record<StepOutcome | 'undecodable', number>;
  rejections: Record<string, number>;
  outputs: number;
  members: number;
  fencedRetries: number;
  aborted: boolean;
}

export interface Publisher {
  publish(outputs: readonly OutputEvent[]): Promise<void>;
}

const maxFencedAttempts = 8;

/**
 * The kernel's batch step, between Kafka fetch and offset commit:
 * decode → load all members in one round trip → run `decide` in order →
 * one fenced write per member (one pipeline) → publish outputs in input order.
 * Anything already applied (at or below a member's watermark) re-publishes its
 * stored outputs instead of running again.
 */
export class BatchProcessor<S, E> {
  constructor(
    private readonly logic: WorkerLogic<S, E>,
    private readonly decoder: InputDecoder<E>,
    private readonly store: MemberStore<S>,
    private readonly publisher: Publisher,
    private readonly rules: () => Rules,
    private readonly limits: StepLimits,
    private readonly log: Logger,
    /** Fault injection for tests (see failpoints.ts). */
    private readonly failpoint: Failpoint = () => undefined,
  ) {}

  async process(records: readonly InputRecord[], hooks: BatchHooks): Promise<BatchReport> {
    const report: BatchReport = {
      records: records.length,
      outcomes: { applied: 0, rejected: 0, duplicate: 0, redelivered: 0, undecodable: 0 },
      rejections: {},
      outputs: 0,
      members: 0,
      fencedRetries: 0,
      aborted: false,
    };
    if (records.length === 0) return report;
    const decoded = await Promise.all(records.map((r) => this.decoder.decode(r)));
    const memberIds = [...new Set(decoded.flatMap((d) => (d.kind === 'event' ? [d.memberId] : [])))];
    report.members = memberIds.length;
    const firstOffsets = firstOffsetPerTopicPartition(records);

    for (let attempt = 1; ; attempt++) {
      const loaded = await this.store.load(memberIds);
      const { outputs, writes, tally } = this.applyAll(records, decoded, loaded, firstOffsets);
      await hooks.heartbeat();
      if (!hooks.isActive()) {
        report.aborted = true;
        return report;
      }
      try {
        await this.store.commit(writes);
      } catch (err) {
        if (err instanceof FencedWriteError && attempt < maxFencedAttempts) {
          report.fencedRetries++;
          this.log.warn({ members: err.memberIds.length, attempt }, 'fenced write lost to another writer; reloading batch');
          continue;
        }
        throw err;
      }
      if (writes.length > 0) this.failpoint('after-state-write');
      Object.assign(report.outcomes, tally.outcomes);
      report.rejections = tally.rejections;
      await this.publisher.publish(outputs);
      if (writes.length > 0) this.failpoint('after-publish');
      report.outputs = outputs.length;
      return report;
    }
  }

  private applyAll(
    records: readonly InputRecord[],
    decoded: readonly Decoded<E>[],
    loaded: Map<string, LoadedMember<S>>,
    firstOffsets: Map<string, string>,
  ) {
    const rules = this.rules();
    const working = new Map<string, { version: number; record: LoadedMember<S>['record']; changed: boolean }>();
    for (const [id, m] of loaded) {
      let record = m.record;
      for (const [tp, first] of firstOffsets) record = trimOutbox(record, tp, first);
      working.set(id, { version: m.version, record, changed: false });
    }
    const outputs: OutputEvent[] = [];
    const tally = { outcomes: { applied: 0, rejected: 0, duplicate: 0, redelivered: 0, undecodable: 0 }, rejections: {} as Record<string, number> };
    records.forEach((record, i) => {
      const d = decoded[i]!;
      if (d.kind === 'rejected') {
        tally.outcomes.undecodable++;
        tally.rejections[d.rejection.reason] = (tally.rejections[d.rejection.reason] ?? 0) + 1;
        outputs.push(deadLetter(this.logic.name, record, d.rejection, d));
        return;
      }
      const member = working.get(d.memberId)!;
      const ctx = { rules, record: { timestamp: record.timestamp, sizeBytes: record.value?.length ?? 0 } };
      const step = stepMember(this.logic, member.record, { record, ...d }, ctx, this.limits);
      member.record = step.record;
      member.changed ||= step.changed;
      tally.outcomes[step.outcome]++;
      if (step.rejection) tally.rejections[step.rejection.reason] = (tally.rejections[step.rejection.reason] ?? 0) + 1;
      outputs.push(...step.outputs);
    });
    const writes: MemberWrite<S>[] = [];
    for (const [memberId, m] of working) if (m.changed) writes.push({ memberId, expectedVersion: m.version, record: m.record });
    return { outputs, writes, tally };
  }
}

function firstOffsetPerTopicPartition(records: readonly InputRecord[]): Map<string, string> {
  const first = new Map<string, string>();
  for (const r of records) {
    const tp = topicPartitionId(r.topic, r.partition);
    const seen = first.get(tp);
    if (seen === undefined || compareOffsets(r.offset, seen) < 0) first.set(tp, r.offset);
  }
  return first;
}
