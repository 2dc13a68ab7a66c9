/**
 * `rebuild --worker w`: after Redis lost a worker's state (all of it, or some), rebuild it from
 * the retained input topics. The worker's keys in its live state namespace are removed (what
 * is left of them is no longer trusted), its group is reset to the oldest retained offsets,
 * and the worker runs up to the high watermarks captured at the start; then the live workers
 * can be started again and continue from there. Outputs of inputs below the group's committed
 * offsets reached Kafka before (the kernel publishes before it commits) and are not published
 * again: downstream workers remember only a bounded window of event ids, so a whole topic sent
 * again would be applied twice there. Outputs of inputs from the committed offsets on are
 * published, with the ids they had, as after any crash.
 */
import { physicalTopic } from '../../../shared/contracts/topics.js';
import {
  createLivePointer,
  defaultPointer,
  liveGroup,
  readLivePointer,
  restoreSlotFences,
} from '../../../shared/redis/live-pointer.js';
import { compareOffsets } from '../../../shared/kernel/offsets.js';
import { groupMembers } from '../../../shared/replay/plan.js';
import { rangeKey } from '../../../shared/replay/positions.js';
import { ReplayRefused, runLiveStateToEnds, workerEntry, type ReplayContext } from './shared.js';
import { deleteKeys } from '../../../shared/redis/client.js';
import { workerKeysPattern } from '../../../shared/redis/keys.js';

export interface RebuildReport {
  worker: string;
  stateNamespace: string;
  keysRemoved: number;
  records: number;
  outputs: number;
  seconds: number;
  recordsPerSecond: number;
}

export async function rebuild(
  rc: ReplayContext,
  worker: string,
  progress?: (line: string) => void,
): Promise<RebuildReport> {
  const entry = workerEntry(worker);
  // After Redis lost everything there is no pointer: the worker's own namespace at epoch 0 again.
  await createLivePointer(rc.clients.redis, rc.liveNamespace, worker, defaultPointer(rc.liveNamespace));
  const pointer = await readLivePointer(rc.clients.redis, rc.liveNamespace, worker);
  if (pointer.phase !== 'live')
    throw new ReplayRefused(`a promote of ${worker} is under way: finish or abort it first`);
  await restoreSlotFences(rc.clients.redis, rc.liveNamespace, worker, pointer);
  const group = liveGroup(pointer, worker);
  const members = await groupMembers(rc.admin, group);
  if (members > 0)
    throw new ReplayRefused(
      `${members} live ${worker} worker(s) are running in ${group}: stop them first; start them again after the rebuild`,
    );

  const keysRemoved = await deleteKeys(rc.clients.redis, workerKeysPattern(pointer.namespace, worker));
  const existing = new Set(await rc.admin.listTopics());
  const ends = new Map<string, string>();
  const publishFrom = new Map<string, string>();
  for (const logical of entry.definition.inputs) {
    const topic = physicalTopic(rc.liveNamespace, logical);
    if (!existing.has(topic)) continue;
    const [committed] = await rc.admin.fetchOffsets({ groupId: group, topics: [topic] });
    for (const p of committed?.partitions ?? [])
      if (compareOffsets(p.offset, '0') > 0) publishFrom.set(rangeKey(topic, p.partition), p.offset);
    await rc.admin.resetOffsets({ groupId: group, topic, earliest: true });
    for (const p of await rc.admin.fetchTopicOffsets(topic)) ends.set(rangeKey(topic, p.partition), p.high);
  }
  progress?.(
    `rebuilding ${worker} in ${pointer.namespace} from the oldest retained offsets (${keysRemoved} stale keys removed)`,
  );
  const started = Date.now();
  const totals = await runLiveStateToEnds(rc, worker, pointer, pointer.epoch, ends, {
    publishFrom,
    ...(progress ? { progress: (t) => progress(`${worker}: ${t.records} records, ${t.outputs} outputs`) } : {}),
  });
  const seconds = (Date.now() - started) / 1000;
  return {
    worker,
    stateNamespace: pointer.namespace,
    keysRemoved,
    records: totals.records,
    outputs: totals.outputs,
    seconds,
    recordsPerSecond: Math.round(totals.records / Math.max(seconds, 0.001)),
  };
}
