/**
 * A worker's live pointer: which state namespace (Redis keys and consumer group) the live
 * workers of a topic namespace run on, under which rules. Absent, it is the topic namespace
 * itself at epoch 0, so nothing changes for a deployment that never promoted a replay.
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

export async function readLivePointer(redis: Redis, topicNamespace: string, worker: string): Promise<LivePointer> {
  const h = await redis.hgetall(livePointerKey(topicNamespace, worker));
  if (!h.namespace) return defaultPointer(topicNamespace);
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
  await redis.hset(livePointerKey(topicNamespace, worker), {
    namespace: p.namespace,
    epoch: String(p.epoch),
    phase: p.phase,
    rules: p.rules ?? '',
    previous: p.previous ?? '',
    movedAt: p.movedAt === null ? '' : String(p.movedAt),
    target: p.target ?? '',
  });
}

/** The consumer group the live workers of this worker use now. */
export function liveGroup(p: LivePointer, worker: string): string {
  return consumerGroup(p.namespace, worker);
}

export function rulesOf(p: LivePointer, fallback: Rules): Rules {
  return p.rules === null ? fallback : parseRules(JSON.parse(p.rules), `live pointer rules (epoch ${p.epoch})`);
}
