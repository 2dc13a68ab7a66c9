/**
 * Every Redis key memberflow writes is built here. Redis Cluster hashes only the first `{…}`
 * of a key (its hash tag), and one script call may touch only keys of one slot:
 *
 * - a member's record and outbox carry `{u:<id>}`, so they share a slot;
 * - a worker with projections (sorted sets that span members) keeps its records in
 *   `projectionBuckets` buckets instead: `{b<n>}{u:<id>}`, and one projection shard per bucket
 *   `…:proj:<name>:{b<n>}`, so a record and the projection rows it owns share a slot; readers
 *   merge the shards (MemberStore.projectionTop);
 * - per-partition keys (timers, tick journals, unsettled journals) carry `{tp:<topic:partition>}`.
 *
 * The `{u:<id>}` part stays in every member key, so tools read the member id from it whatever
 * the layout.
 */
import calculateSlot from 'cluster-key-slot';

/** Buckets of a worker with projections: shards a reader merges per read, and slots its records spread over. */
export const projectionBuckets = 16;

/** Redis Cluster's slot count. */
export const clusterSlots = 16_384;

/** A stable bucket of an id (FNV-1a over its UTF-16 code units): the layout of stored keys depends on it, never change it. */
export function bucketOf(id: string, buckets: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % buckets;
}

/** How a worker's member keys are tagged: one slot per member, or `projectionBuckets` buckets (workers with projections). */
export type KeyLayout = 'per-member' | 'bucketed';

function memberTag(memberId: string, layout: KeyLayout): string {
  return layout === 'bucketed' ? `{b${bucketOf(memberId, projectionBuckets)}}{u:${memberId}}` : `{u:${memberId}}`;
}

export function memberKey(
  namespace: string,
  worker: string,
  memberId: string,
  layout: KeyLayout = 'per-member',
): string {
  return `mf:${namespace}:${worker}:${memberTag(memberId, layout)}`;
}

/** SCAN pattern of a worker's member records (either layout: a record's key goes on with its tag). */
export function memberKeyPattern(namespace: string, worker: string): string {
  return `mf:${namespace}:${worker}:{*`;
}

/** The member id of a record or outbox key (the `{u:<id>}` part). */
export function memberIdOfKey(key: string): string | undefined {
  return /\{u:(.*)\}$/s.exec(key)?.[1];
}

/** The prefix of every key of a namespace. */
export function namespacePrefix(namespace: string): string {
  return `mf:${namespace}:`;
}

export function namespacePattern(namespace: string): string {
  return `${namespacePrefix(namespace)}*`;
}

/** SCAN pattern of every key of one worker's state in a namespace (records, outboxes, timers, journals, marks). */
export function workerKeysPattern(namespace: string, worker: string): string {
  return `${namespacePrefix(namespace)}${worker}:*`;
}

/** A worker's live pointer (shared/redis/live-pointer.ts): which state namespace its live workers run on. */
export function livePointerKey(topicNamespace: string, worker: string): string {
  return `mf:${topicNamespace}:live:${worker}`;
}

/** On a cluster, the fence of one slot: a copy of the live pointer's epoch. */
export function slotFenceKey(topicNamespace: string, worker: string, slot: number): string {
  return `${livePointerKey(topicNamespace, worker)}:fence:{${tagOfSlot(slot)}}`;
}

/** A replay namespace's metadata (shared/replay/meta.ts). */
export function replayMetaKey(namespace: string): string {
  return `mf:${namespace}:replay:meta`;
}

/** Per input partition: members by next due time (a hint; each member's own state decides). */
export function timersKey(namespace: string, worker: string, tp: string): string {
  return `mf:${namespace}:${worker}:timers:{tp:${tp}}`;
}

/** Per tick: the members it was applied to, so a redelivered tick re-publishes exactly theirs. */
export function tickJournalKey(namespace: string, worker: string, tp: string, offset: string): string {
  return `mf:${namespace}:${worker}:tick:{tp:${tp}}:${offset}`;
}

/** One shard of a worker's sorted-set projection (see WorkerLogic.projections): per projection name and bucket. */
export function projectionShardKey(namespace: string, worker: string, name: string, bucket: number): string {
  return `mf:${namespace}:${worker}:proj:${name}:{b${bucket}}`;
}

/** Per input partition, the highest offset a batch of this state namespace may have applied and published. */
export function appliedMarksKey(namespace: string, worker: string): string {
  return `mf:${namespace}:${worker}:applied`;
}

/** A member's outbox: outputs of its applied inputs until their offsets are committed. Same slot as the record. */
export function outboxKey(
  namespace: string,
  worker: string,
  memberId: string,
  layout: KeyLayout = 'per-member',
): string {
  return `mf:${namespace}:${worker}:out:${memberTag(memberId, layout)}`;
}

/** Per input partition: batches whose outbox entries are not dropped yet (field: highest offset, value: members). */
export function unsettledKey(namespace: string, worker: string, tp: string): string {
  return `mf:${namespace}:${worker}:unsettled:{tp:${tp}}`;
}

/** The Redis Cluster slot of a key. */
export function slotOf(key: string): number {
  return calculateSlot(key);
}

let tagsBySlot: string[] | null = null;

/** A short hash tag for each slot (`tagOfSlot(s)` hashes to slot s), found once by trying tags in order. */
export function tagOfSlot(slot: number): string {
  if (tagsBySlot === null) {
    const tags = new Array<string>(clusterSlots);
    let found = 0;
    for (let n = 0; found < clusterSlots; n++) {
      const tag = `s${n.toString(36)}`;
      const s = calculateSlot(tag);
      if (tags[s] === undefined) {
        tags[s] = tag;
        found++;
      }
    }
    tagsBySlot = tags;
  }
  return tagsBySlot[slot]!;
}
