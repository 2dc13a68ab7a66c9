/**
 * What the workers cost Redis: commands executed (INFO commandstats, server-wide: the bench
 * runs alone on its Redis) and memory per member (MEMORY USAGE of every key of a namespace).
 */
import type { Redis } from 'ioredis';
import { namespacePattern } from '../../shared/redis/keys.js';

export async function commandCounts(redis: Redis): Promise<Map<string, number>> {
  const info = await redis.info('commandstats');
  const counts = new Map<string, number>();
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) counts.set(m[1]!, Number(m[2]));
  return counts;
}

/** Commands run between two snapshots, by name, without the bench's own INFO calls. */
export function commandsBetween(before: Map<string, number>, after: Map<string, number>): { total: number; byCommand: Record<string, number> } {
  const byCommand: Record<string, number> = {};
  let total = 0;
  for (const [cmd, n] of after) {
    if (cmd === 'info') continue;
    const d = n - (before.get(cmd) ?? 0);
    if (d > 0) {
      byCommand[cmd] = d;
      total += d;
    }
  }
  return { total, byCommand };
}

export interface MemoryUse {
  /** Distinct members with a key of a member-keyed worker (reco-items keys are items, not members). */
  members: number;
  keys: number;
  bytes: number;
  /** All the namespace's bytes (items, projections and timers included) per member. */
  bytesPerMember: number;
  /** Per worker: its keys' bytes, the ids its keys are for (members, or items for reco-items), bytes per id. */
  byWorker: Record<string, { keys: number; bytes: number; members: number; bytesPerMember: number }>;
}

/** Workers whose `{u:<id>}` keys are items, not members. */
const itemKeyedWorkers = new Set(['reco-items']);

/** Sums MEMORY USAGE over the namespace's keys (`mf:<ns>:<worker>:...`); members are the distinct `{u:<id>}` tags of member-keyed workers. */
export async function memoryOfNamespace(redis: Redis, ns: string): Promise<MemoryUse> {
  const members = new Set<string>();
  const byWorker: MemoryUse['byWorker'] = {};
  const membersByWorker = new Map<string, Set<string>>();
  let bytes = 0;
  let keys = 0;
  const prefix = `mf:${ns}:`;
  for (let cursor = '0'; ; ) {
    const [next, batch] = await redis.scan(cursor, 'MATCH', namespacePattern(ns), 'COUNT', 2000);
    if (batch.length > 0) {
      const pipeline = redis.pipeline();
      for (const k of batch) pipeline.memory('USAGE', k, 'SAMPLES', '0');
      const replies = (await pipeline.exec()) ?? [];
      batch.forEach((key, i) => {
        const size = Number(replies[i]?.[1] ?? 0);
        const worker = key.slice(prefix.length).split(':')[0] ?? '?';
        const w = (byWorker[worker] ??= { keys: 0, bytes: 0, members: 0, bytesPerMember: 0 });
        w.keys++;
        w.bytes += size;
        const member = /\{u:(.+)\}$/.exec(key)?.[1];
        if (member !== undefined) {
          if (!itemKeyedWorkers.has(worker)) members.add(member);
          let set = membersByWorker.get(worker);
          if (!set) membersByWorker.set(worker, (set = new Set()));
          set.add(member);
        }
        bytes += size;
        keys++;
      });
    }
    cursor = next;
    if (cursor === '0') break;
  }
  for (const [worker, w] of Object.entries(byWorker)) {
    w.members = membersByWorker.get(worker)?.size ?? 0;
    w.bytesPerMember = w.members > 0 ? w.bytes / w.members : 0;
  }
  return { members: members.size, keys, bytes, bytesPerMember: members.size > 0 ? bytes / members.size : 0, byWorker };
}

export async function redisVersion(redis: Redis): Promise<string> {
  return /redis_version:(\S+)/.exec(await redis.info('server'))?.[1] ?? 'unknown';
}
