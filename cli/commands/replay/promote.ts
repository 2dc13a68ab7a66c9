import { workerDefinition } from '../../../services/index.js';
/**
 * `replay promote`: the shadow becomes live, with no gap and no double.
 *
 * 1. Refuse if the shadow is running, or has read past the live workers anywhere (its
 *    outputs for those records would never reach the live topics).
 * 2. Handover: the live pointer's epoch goes up with phase `handover`. From that moment the
 *    commit script refuses every state write of the old epoch, so no old worker can change
 *    state or publish; live workers notice (a refused write, or the pointer poll), leave the
 *    group and wait.
 * 3. Once the live group is empty, the old generation is finished: a worker that stopped (or
 *    died) after writing and publishing a batch but before committing its offsets left inputs
 *    whose outputs, decided under the old rules, may be on the live topics. The applied marks
 *    (shared/redis/lua/mark-applied.lua) say how far that can reach; the old generation's
 *    runtime runs once more up to them (already applied inputs re-publish their stored outputs,
 *    the same ids and contents) and commits. Its committed offsets L are then final: the shadow
 *    catches up to exactly L (its outputs for that stretch go to its own topics, like the rest
 *    of the replay).
 * 4. Live: the pointer names the shadow's namespace and rules. Waiting workers start the new
 *    generation with the shadow's group, which is at L: the next input any worker reads is
 *    the first one the old generation did not commit.
 * A promote that dies midway leaves the pointer in `handover`: run it again to finish, or
 * with `abort` to give the old namespace back.
 */
import { consumerGroup, physicalTopic } from '../../../shared/contracts/topics.js';
import { readLivePointer, writeLivePointer, type LivePointer } from '../../../shared/redis/live-pointer.js';
import { compareOffsets, nextOffset, topicPartitionId } from '../../../shared/kernel/offsets.js';
import { MemberStore } from '../../../shared/redis/member-store.js';
import { readReplayMeta, writeReplayMeta } from '../../../shared/replay/meta.js';
import { groupMembers } from '../../../shared/replay/plan.js';
import { rangeKey } from '../../../shared/replay/positions.js';
import { runShadow } from './run.js';
import { ReplayRefused, runLiveStateToEnds, workerEntry, type ReplayContext } from './shared.js';

export interface PromoteOptions {
  namespace: string;
  /** How long to wait for live workers to leave their group. */
  leaveTimeoutMs?: number;
  abort?: boolean;
  progress?: (line: string) => void;
}

export interface PromoteReport {
  worker: string;
  from: string;
  to: string;
  epoch: number;
  /** Live offsets at the switch, per input partition: where the new generation continues. */
  switchedAt: Record<string, string>;
  /** Inputs the old generation had applied but not committed, finished under the old rules before the switch. */
  finishedRecords: number;
  caughtUpRecords: number;
  /** From handover to live: how long no live worker of this kind processed anything. */
  pausedMs: number;
  aborted: boolean;
}

export async function replayPromote(rc: ReplayContext, o: PromoteOptions): Promise<PromoteReport> {
  const redis = rc.clients.redis;
  const meta = await readReplayMeta(redis, o.namespace);
  if (meta === null) throw new ReplayRefused(`no replay in ${o.namespace}`);
  if (meta.liveNamespace !== rc.liveNamespace)
    throw new ReplayRefused(`${o.namespace} replays ${meta.liveNamespace}, not ${rc.liveNamespace}`);
  const worker = meta.worker;
  const pointer = await readLivePointer(redis, rc.liveNamespace, worker);
  const report = (p: LivePointer, extra: Partial<PromoteReport>): PromoteReport => ({
    worker,
    from: pointer.namespace,
    to: p.namespace,
    epoch: p.epoch,
    switchedAt: {},
    finishedRecords: 0,
    caughtUpRecords: 0,
    pausedMs: 0,
    aborted: false,
    ...extra,
  });

  if (o.abort) {
    if (pointer.phase !== 'handover' || pointer.target !== o.namespace)
      throw new ReplayRefused(`no promote of ${o.namespace} to abort`);
    const back: LivePointer = {
      ...pointer,
      epoch: pointer.epoch + 1,
      phase: 'live',
      target: null,
      movedAt: Date.now(),
    };
    await writeLivePointer(redis, rc.liveNamespace, worker, back);
    return report(back, { aborted: true });
  }
  if (meta.status === 'promoted') throw new ReplayRefused(`${o.namespace} is already live`);
  if (pointer.phase === 'handover' && pointer.target !== o.namespace)
    throw new ReplayRefused(`a promote of ${pointer.target} is under way: finish or abort it first`);
  const shadowGroup = consumerGroup(o.namespace, worker);
  if ((await groupMembers(rc.admin, shadowGroup)) > 0)
    throw new ReplayRefused(
      `the replay in ${o.namespace} is still running: stop it first (it resumes where it stopped)`,
    );
  const liveGroupId = consumerGroup(pointer.namespace, worker);
  const inputs = workerEntry(worker).definition.inputs.map((t) => physicalTopic(rc.liveNamespace, t));

  if (pointer.phase === 'live') {
    const [shadowAt, liveAt] = await Promise.all([
      committed(rc, shadowGroup, inputs),
      committed(rc, liveGroupId, inputs),
    ]);
    const ahead = [...shadowAt].filter(([k, s]) => compareOffsets(s, liveAt.get(k) ?? '0') > 0);
    if (ahead.length > 0) {
      throw new ReplayRefused(
        `the replay has read past the live workers on ` +
          `${ahead.map(([k, s]) => `${k} (${s} > ${liveAt.get(k) ?? 0})`).join(', ')}: its outputs for those ` +
          `records would never reach the live topics; promote once the live workers have caught up`,
      );
    }
  }
  const handover: LivePointer =
    pointer.phase === 'handover'
      ? pointer
      : { ...pointer, epoch: pointer.epoch + 1, phase: 'handover', target: o.namespace, movedAt: Date.now() };
  const pausedSince = Date.now();
  if (pointer.phase === 'live') await writeLivePointer(redis, rc.liveNamespace, worker, handover);
  o.progress?.(`handover: ${worker} workers of epoch ${pointer.epoch} stop; waiting for group ${liveGroupId} to empty`);

  const deadline = Date.now() + (o.leaveTimeoutMs ?? 120_000);
  while ((await groupMembers(rc.admin, liveGroupId)) > 0) {
    if (Date.now() > deadline)
      throw new ReplayRefused(
        `live workers of ${worker} did not leave group ${liveGroupId} within ` +
          `${Math.round((o.leaveTimeoutMs ?? 120_000) / 1000)} s; the pointer stays in handover: run promote ` +
          `again to finish, or promote --abort`,
      );
    await new Promise((r) => setTimeout(r, 250));
  }
  const finished = await finishOldGeneration(
    rc,
    pointer,
    handover.epoch,
    worker,
    inputs,
    o.leaveTimeoutMs ?? 120_000,
    o.progress,
  );
  const liveAt = await committed(rc, liveGroupId, inputs);
  const ends = new Map<string, string>();
  for (const r of meta.ranges)
    ends.set(rangeKey(r.topic, r.partition), liveAt.get(rangeKey(r.topic, r.partition)) ?? r.start);
  o.progress?.(`catching the replay up to the live position (${[...ends].map(([k, v]) => `${k}@${v}`).join(', ')})`);
  const caughtUp = await runShadow(rc, meta, { ends, follow: false, ...(o.progress ? { progress: o.progress } : {}) });
  if (!caughtUp.completed)
    throw new ReplayRefused(
      `the replay could not reach the live position (${caughtUp.remaining} records left); the pointer stays in handover: run promote again`,
    );

  const live: LivePointer = {
    namespace: o.namespace,
    epoch: handover.epoch,
    phase: 'live',
    rules: meta.rules,
    previous: pointer.namespace,
    movedAt: Date.now(),
    target: null,
  };
  await writeLivePointer(redis, rc.liveNamespace, worker, live);
  await writeReplayMeta(redis, { ...meta, status: 'promoted' });
  return report(live, {
    switchedAt: Object.fromEntries(ends),
    finishedRecords: finished,
    caughtUpRecords: caughtUp.records,
    pausedMs: Date.now() - pausedSince,
  });
}

/**
 * Runs the old generation (its state, group and rules) up to its applied marks, where they lie
 * past its committed offsets: afterwards every input it may have published is committed, so the
 * new generation never decides one of them again. Returns the records it read (0 when nothing
 * was left, the usual case).
 */
async function finishOldGeneration(
  rc: ReplayContext,
  pointer: LivePointer,
  epoch: number,
  worker: string,
  inputs: readonly string[],
  timeoutMs: number,
  progress?: (line: string) => void,
): Promise<number> {
  const group = consumerGroup(pointer.namespace, worker);
  const marks = await new MemberStore(rc.clients.redis, pointer.namespace, workerDefinition(worker)).appliedMarks();
  const at = await committed(rc, group, inputs);
  const stopAt = new Map<string, string>();
  let behind = 0n;
  for (const topic of inputs) {
    for (const p of await rc.admin.fetchTopicOffsets(topic)) {
      const key = rangeKey(topic, p.partition);
      const mark = marks.get(topicPartitionId(topic, p.partition));
      const committedAt = at.get(key) ?? '0';
      // Only what the partition still holds: retention may have removed the start, a recreated topic the marks' offsets.
      const from = max(committedAt, p.low);
      const markEnd = mark === undefined ? committedAt : min(nextOffset(mark), p.high);
      if (compareOffsets(markEnd, from) > 0) {
        stopAt.set(key, markEnd);
        behind += BigInt(markEnd) - BigInt(from);
      } else {
        stopAt.set(key, committedAt); // nothing to finish: at its end once the group's position is known
      }
    }
  }
  if (behind === 0n) return 0;
  progress?.(`finishing the old generation of ${worker}: ${behind} input(s) it applied past its committed offsets`);
  const limit = {
    ms: timeoutMs,
    error: () =>
      new ReplayRefused(
        `the old generation of ${worker} could not be finished within ${Math.round(timeoutMs / 1000)} s; the ` +
          `pointer stays in handover: run promote again, or promote --abort`,
      ),
  };
  return (await runLiveStateToEnds(rc, worker, pointer, epoch, stopAt, { deadline: limit })).records;
}

/** A group's committed offsets on the given topics, keyed like ranges (partitions never committed are left out). */
async function committed(rc: ReplayContext, groupId: string, topics: readonly string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const existing = new Set(await rc.admin.listTopics());
  const list = topics.filter((t) => existing.has(t));
  if (list.length === 0) return out;
  for (const t of await rc.admin.fetchOffsets({ groupId, topics: list })) {
    for (const p of t.partitions)
      if (compareOffsets(p.offset, '0') >= 0) out.set(rangeKey(t.topic, p.partition), p.offset);
  }
  return out;
}

const max = (a: string, b: string): string => (compareOffsets(a, b) >= 0 ? a : b);
const min = (a: string, b: string): string => (compareOffsets(a, b) <= 0 ? a : b);
