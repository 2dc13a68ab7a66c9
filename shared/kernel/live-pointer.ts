/**
 * A worker's live pointer: which state namespace (Redis keys and consumer group) the live
 * workers of a topic namespace run on, under which rules. A live worker writes it (the topic
 * namespace itself at epoch 0) when it first starts; from then on its absence means Redis lost
 * the worker's data (flushed, or restarted empty): the commit script refuses every write and
 * the worker stops, instead of carrying on from empty state (`memberflow rebuild` restores it).
 *
 * `memberflow replay promote` moves it (services README "Backfills and recovery"): phase
 * `handover` first (every state write of the old epoch is then refused by the commit script,
 * and live workers stop and wait), then `live` at the shadow's namespace with a new epoch.
 */
import type { Redis } from 'ioredis';
import { parseRules, type Rules } from '../config/rules.js';
import { consumerGroup } from '../kafka/topics.js';

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

export function livePointerKey(topicNamespace: string, worker: string): string {
  return `mf:${topicNamespace}:live:${worker}`;
}

export function defaultPointer(topicNamespace: string): LivePointer {
  return { namespace: topicNamespace, epoch: 0, phase: 'live', rules: null, previous: null, movedAt: null, target: null };
}

/**
 * Redis no longer holds a worker's data although its consumer group has made progress: state
 * written before is gone. Processing on would apply new events to empty state and publish
 * wrong decisions, so the worker stops and says how to recover.
 */
export class StateLostError extends Error {
  override name = 'StateLostError';
  constructor(readonly worker: string, readonly topicNamespace: string, why: string) {
    super(`Redis lost the state of ${worker} in ${topicNamespace} (${why}): stop its workers and run \`memberflow rebuild --worker ${worker}\`, then start them again`);
  }
}

export async function readLivePointer(redis: Redis, topicNamespace: string, worker: string): Promise<LivePointer> {
  return (await readLivePointerIfAny(redis, topicNamespace, worker)) ?? defaultPointer(topicNamespace);
}

/** The pointer as stored, or null when Redis has none. */
export async function readLivePointerIfAny(redis: Redis, topicNamespace: string, worker: string): Promise<LivePointer | null> {
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

export async function writeLivePointer(redis: Redis, topicNamespace: string, worker: string, p: LivePointer): Promise<void> {
  await redis.hset(livePointerKey(topicNamespace, worker), pointerFields(p));
}

const createIfAbsent = `if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1`;

/**
 * The pointer a live worker starts under. When Redis has none, the worker is new (its group
 * never committed: the pointer is created, atomically, so two instances starting together
 * agree) or Redis lost its data (the group committed before): StateLostError.
 */
export async function claimLivePointer(redis: Redis, topicNamespace: string, worker: string, groupHasCommitted: () => Promise<boolean>): Promise<LivePointer> {
  const stored = await readLivePointerIfAny(redis, topicNamespace, worker);
  if (stored) return stored;
  if (await groupHasCommitted()) throw new StateLostError(worker, topicNamespace, 'no live pointer, but its consumer group has committed offsets');
  await createLivePointer(redis, topicNamespace, worker, defaultPointer(topicNamespace));
  return (await readLivePointerIfAny(redis, topicNamespace, worker)) ?? defaultPointer(topicNamespace);
}

/** Writes the pointer unless one exists (then leaves it alone). */
export async function createLivePointer(redis: Redis, topicNamespace: string, worker: string, p: LivePointer): Promise<void> {
  await redis.eval(createIfAbsent, 1, livePointerKey(topicNamespace, worker), ...Object.entries(pointerFields(p)).flat());
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
