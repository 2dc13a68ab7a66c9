/**
 * A worker's live pointer: which state namespace (Redis keys and consumer group) the live
 * workers of a topic namespace run on, under which rules. A live worker writes it (the topic
 * namespace itself at epoch 0) when it first starts; from then on its absence means Redis lost
 * the worker's data (flushed, or restarted empty): the commit script refuses every write and
 * the worker stops, instead of carrying on from empty state (`memberflow rebuild` restores it).
 *
 * `memberflow replay promote` moves it (docs/REPLAY.md): phase
 * `handover` first (every state write of the old epoch is then refused by the commit script,
 * and live workers stop and wait), then `live` at the shadow's namespace with a new epoch.
 *
 * The write scripts check the epoch in a *fence*: a hash with the field `epoch`. On one node
 * the fence is the pointer itself. A Redis Cluster script may touch one slot only, so there
 * the pointer's epoch is copied into a fence per slot (16,384 small hashes per worker, about
 * 1.5 MB), each written before the pointer: a promote bumps every copy before it moves the
 * pointer, and a worker writes only where the copy of its member's slot agrees. The copies
 * are created only with the pointer, so a missing copy means that node lost its data.
 */
import { parseRules, type Rules } from '../config/rules.js';
import { consumerGroup } from '../contracts/topics.js';
import { isCluster, pipelineOf, replicationCheck, type RedisClient } from './client.js';
import { clusterSlots, livePointerKey, slotFenceKey, slotOf } from './keys.js';

export interface LivePointer {
  /** State namespace: Redis keys `mf:<namespace>:<worker>:…` and consumer group `<namespace>.<worker>`. */
  namespace: string;
  epoch: number;
  phase: 'live' | 'handover';
  /** Rules the live workers apply (JSON), when a promote brought its own; null: the process's rules file. */
  rules: string | null;
  /** Where the pointer was before the last promote, and when it moved (epoch ms), for the record. */
  previous: string | null;
  movedAt: number | null;
  /** During a handover: the namespace being promoted. */
  target: string | null;
}

/** The fence a write to `key` checks: the pointer itself on one node, the copy in key's slot on a cluster. */
export function fenceKeyOf(redis: RedisClient, fence: { topicNamespace: string; worker: string }, key: string): string {
  return isCluster(redis)
    ? slotFenceKey(fence.topicNamespace, fence.worker, slotOf(key))
    : livePointerKey(fence.topicNamespace, fence.worker);
}

/**
 * On a cluster, sets every slot's fence to `epoch` (`onlyMissing`: creates the missing ones and
 * leaves the others alone). One pipeline per node. A no-op on one node.
 */
async function writeSlotFences(
  redis: RedisClient,
  topicNamespace: string,
  worker: string,
  epoch: number,
  onlyMissing: boolean,
): Promise<void> {
  if (!isCluster(redis)) return;
  const batch = pipelineOf(redis);
  for (let slot = 0; slot < clusterSlots; slot++) {
    if (onlyMissing) batch.hsetnx(slotFenceKey(topicNamespace, worker, slot), 'epoch', String(epoch));
    else batch.hset(slotFenceKey(topicNamespace, worker, slot), 'epoch', String(epoch));
  }
  // On every master (16,384 slots cover them all): a fence bump lost in a failover would let an old generation write again.
  const replicated = replicationCheck(redis, () =>
    Array.from({ length: clusterSlots }, (_, slot) => slotFenceKey(topicNamespace, worker, slot)),
  );
  for (const [err] of (await batch.exec()) ?? []) if (err) throw err;
  await replicated();
}

/** After a rebuild: on a cluster, the slot fences a node lost, created again at the pointer's epoch. */
export async function restoreSlotFences(
  redis: RedisClient,
  topicNamespace: string,
  worker: string,
  p: LivePointer,
): Promise<void> {
  await writeSlotFences(redis, topicNamespace, worker, p.epoch, true);
}

/** On a cluster, the slots whose fence is missing (a node lost its data); [] on one node. */
export async function missingSlotFences(redis: RedisClient, topicNamespace: string, worker: string): Promise<number[]> {
  if (!isCluster(redis)) return [];
  const batch = pipelineOf(redis);
  for (let slot = 0; slot < clusterSlots; slot++) batch.exists(slotFenceKey(topicNamespace, worker, slot));
  const replies = (await batch.exec()) ?? [];
  const missing: number[] = [];
  replies.forEach(([err, n], slot) => {
    if (err) throw err;
    if (Number(n) === 0) missing.push(slot);
  });
  return missing;
}

export function defaultPointer(topicNamespace: string): LivePointer {
  return {
    namespace: topicNamespace,
    epoch: 0,
    phase: 'live',
    rules: null,
    previous: null,
    movedAt: null,
    target: null,
  };
}

/**
 * Redis no longer holds a worker's data although its consumer group has made progress: state
 * written before is gone. Processing on would apply new events to empty state and publish
 * wrong decisions, so the worker stops and says how to recover.
 */
export class StateLostError extends Error {
  override name = 'StateLostError';
  constructor(
    readonly worker: string,
    readonly topicNamespace: string,
    why: string,
  ) {
    super(
      `Redis lost the state of ${worker} in ${topicNamespace} (${why}): stop its workers and run ` +
        `\`memberflow rebuild --worker ${worker}\`, then start them again`,
    );
  }
}

export async function readLivePointer(
  redis: RedisClient,
  topicNamespace: string,
  worker: string,
): Promise<LivePointer> {
  return (await readLivePointerIfAny(redis, topicNamespace, worker)) ?? defaultPointer(topicNamespace);
}

/** The pointer as stored, or null when Redis has none. */
export async function readLivePointerIfAny(
  redis: RedisClient,
  topicNamespace: string,
  worker: string,
): Promise<LivePointer | null> {
  const h = await redis.hgetall(livePointerKey(topicNamespace, worker));
  if (!h.namespace) return null;
  return {
    namespace: h.namespace,
    epoch: Number(h.epoch ?? '0'),
    phase: h.phase === 'handover' ? 'handover' : 'live',
    rules: h.rules && h.rules !== '' ? h.rules : null,
    previous: h.previous && h.previous !== '' ? h.previous : null,
    movedAt: h.movedAt ? Number(h.movedAt) : null,
    target: h.target && h.target !== '' ? h.target : null,
  };
}

/** Moves the pointer; on a cluster every slot's fence first, so no write of the old epoch passes once the pointer says it moved. */
export async function writeLivePointer(
  redis: RedisClient,
  topicNamespace: string,
  worker: string,
  p: LivePointer,
): Promise<void> {
  await writeSlotFences(redis, topicNamespace, worker, p.epoch, false);
  const replicated = replicationCheck(redis, () => [livePointerKey(topicNamespace, worker)]);
  await redis.hset(livePointerKey(topicNamespace, worker), pointerFields(p));
  await replicated();
}

const createCommand = 'mfCreatePointerV1';
const createIfAbsent = `if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1`;

/**
 * The pointer a live worker starts under. When Redis has none, the worker is new (its group
 * never committed: the pointer is created, atomically, so two instances starting together
 * agree) or Redis lost its data (the group committed before): StateLostError.
 */
export async function claimLivePointer(
  redis: RedisClient,
  topicNamespace: string,
  worker: string,
  groupHasCommitted: () => Promise<boolean>,
): Promise<LivePointer> {
  const stored = await readLivePointerIfAny(redis, topicNamespace, worker);
  if (stored) {
    const missing = await missingSlotFences(redis, topicNamespace, worker);
    if (missing.length > 0)
      throw new StateLostError(
        worker,
        topicNamespace,
        `the fences of ${missing.length} of ${clusterSlots} slots are gone: a Redis node lost its data`,
      );
    return stored;
  }
  if (await groupHasCommitted())
    throw new StateLostError(worker, topicNamespace, 'no live pointer, but its consumer group has committed offsets');
  await createLivePointer(redis, topicNamespace, worker, defaultPointer(topicNamespace));
  return (await readLivePointerIfAny(redis, topicNamespace, worker)) ?? defaultPointer(topicNamespace);
}

/**
 * Writes the pointer unless one exists (then leaves it alone). On a cluster the slot fences
 * come first (created where missing): a worker that sees the pointer finds every fence.
 */
export async function createLivePointer(
  redis: RedisClient,
  topicNamespace: string,
  worker: string,
  p: LivePointer,
): Promise<void> {
  if (await readLivePointerIfAny(redis, topicNamespace, worker)) return;
  await writeSlotFences(redis, topicNamespace, worker, p.epoch, true);
  // A defined command, not EVAL: a cluster client routes (and autopipelines) a command by its first argument, here the key.
  if (!(createCommand in redis)) redis.defineCommand(createCommand, { numberOfKeys: 1, lua: createIfAbsent });
  const create = (redis as unknown as Record<string, (...args: string[]) => Promise<number>>)[createCommand]!;
  await create.call(redis, livePointerKey(topicNamespace, worker), ...Object.entries(pointerFields(p)).flat());
}

function pointerFields(p: LivePointer): Record<string, string> {
  return {
    namespace: p.namespace,
    epoch: String(p.epoch),
    phase: p.phase,
    rules: p.rules ?? '',
    previous: p.previous ?? '',
    movedAt: p.movedAt === null ? '' : String(p.movedAt),
    target: p.target ?? '',
  };
}

/** The consumer group the live workers of this worker use now. */
export function liveGroup(p: LivePointer, worker: string): string {
  return consumerGroup(p.namespace, worker);
}

export function rulesOf(p: LivePointer, fallback: Rules): Rules {
  return p.rules === null ? fallback : parseRules(JSON.parse(p.rules), `live pointer rules (epoch ${p.epoch})`);
}
