/**
 * What the workers cost Redis: commands executed (INFO commandstats, server-wide: the bench
 * runs alone on its Redis; on a cluster, summed over its masters) and memory per member (MEMORY
 * USAGE of every key of a namespace).
 */
import { Cluster, Redis } from 'ioredis';
import type { Env } from '../../shared/config/env.js';

export async function commandCounts(redis: Redis | Cluster): Promise<Map<string, number>> {
  const nodes = redis instanceof Cluster ? redis.nodes('master') : [redis];
  const counts = new Map<string, number>();
  for (const node of nodes) {
    const info = await node.info('commandstats');
    for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm))
      counts.set(m[1]!, (counts.get(m[1]!) ?? 0) + Number(m[2]));
  }
  return counts;
}

/** Commands run between two snapshots, by name, without the bench's own INFO calls. */
export function commandsBetween(
  before: Map<string, number>,
  after: Map<string, number>,
): { total: number; byCommand: Record<string, number> } {
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

export { memoryOfNamespace, type MemoryUse } from '../../shared/redis/usage.js';

export async function redisVersion(redis: Redis | Cluster): Promise<string> {
  const node = redis instanceof Cluster ? redis.nodes('master')[0]! : redis;
  return /redis_version:(\S+)/.exec(await node.info('server'))?.[1] ?? 'unknown';
}

/** A connection for server-wide figures: the one node, or the cluster (ready, so its masters are known). */
export async function statsConnection(env: Env): Promise<Redis | Cluster> {
  if (!env.REDIS_CLUSTER_NODES) return new Redis(env.REDIS_URL);
  const cluster = new Cluster(
    env.REDIS_CLUSTER_NODES.map((n) => ({ host: n.split(':')[0]!, port: Number(n.split(':')[1]) })),
  );
  await new Promise<void>((resolve, reject) => {
    cluster.once('ready', () => resolve());
    cluster.once('error', reject);
  });
  return cluster;
}
