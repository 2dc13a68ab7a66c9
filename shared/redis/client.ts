import type { ConnectionOptions } from 'node:tls';
/**
 * One Redis node or a Redis Cluster behind one type. Cluster mode is chosen by
 * REDIS_CLUSTER_NODES (shared/config/env.ts); everything else in memberflow talks to a
 * `RedisClient` and uses the helpers here where the two differ: pipelines (a cluster
 * pipeline must stay on one node) and key scans (every master holds a share of the keys).
 */
import { Cluster, Redis, type ChainableCommander, type ClusterOptions, type RedisOptions } from 'ioredis';
import { slotOf } from './keys.js';

export type RedisClient = Redis | Cluster;

export function isCluster(redis: RedisClient): redis is Cluster {
  return (redis as Cluster).isCluster;
}

/** Where Redis is: one node's URL, or a cluster's seed nodes (host:port). */
/** TLS (the CA, a client certificate) and, for a cluster, the ACL user: beside the address, for either mode. */
export interface RedisSecurity {
  tls?: ConnectionOptions;
  /** For clusterNodes (a URL carries its own credentials). */
  username?: string;
  password?: string;
}

export type RedisTarget = ({ url: string } | { clusterNodes: readonly string[] }) & RedisSecurity;

/** Options both modes share: a command waits out a reconnect (five tries) rather than failing at once. */
const nodeOptions: RedisOptions = { maxRetriesPerRequest: 5, enableAutoPipelining: false, lazyConnect: false };

/**
 * Cluster options. Autopipelining groups the commands of one tick per node, which is how a
 * batch's writes to members on several nodes go out as one pipeline each. A failover takes
 * Redis about cluster-node-timeout to notice (the native stack sets 5 s): redirections are
 * retried for longer than that. Scripts are defined with defineCommand (EVALSHA, then EVAL on
 * NOSCRIPT), so a promoted replica that never saw SCRIPT LOAD still runs them.
 */
function clusterOptions(base: RedisOptions): ClusterOptions {
  return {
    redisOptions: { ...base, enableAutoPipelining: false },
    enableAutoPipelining: true,
    scaleReads: 'master',
    maxRedirections: 64,
    retryDelayOnFailover: 300,
    retryDelayOnClusterDown: 300,
    retryDelayOnTryAgain: 100,
    slotsRefreshTimeout: 2000,
    clusterRetryStrategy: (times) => Math.min(100 * times, 2000),
  };
}

/**
 * How many replicas must hold a batch's writes before its offsets are committed (WAIT), and how
 * long to wait for them. Redis replicates asynchronously: a write a master acknowledged can vanish
 * when a replica takes over, and a write lost after its offsets were committed would never be
 * redelivered. See docs/SCALING.md.
 */
export interface Durability {
  replicas: number;
  timeoutMs: number;
}

const durabilityOf = new WeakMap<RedisClient, Durability>();

export function connectRedis(target: RedisTarget, options: RedisOptions = {}, durability?: Durability): RedisClient {
  let client: RedisClient;
  const tls = target.tls ? { tls: target.tls } : {};
  if ('url' in target) client = new Redis(target.url, { ...nodeOptions, ...tls, ...options });
  else {
    const seeds = target.clusterNodes.map((n) => {
      const at = n.lastIndexOf(':');
      return { host: n.slice(0, at), port: Number(n.slice(at + 1)) };
    });
    const credentials = {
      ...(target.username ? { username: target.username } : {}),
      ...(target.password ? { password: target.password } : {}),
    };
    client = new Cluster(seeds, clusterOptions({ ...nodeOptions, ...tls, ...credentials, ...options }));
  }
  if (durability && durability.replicas > 0) durabilityOf.set(client, durability);
  return client;
}

/** Writes that cannot be confirmed on enough replicas in time: they may not survive a failover. */
export class ReplicationError extends Error {
  override name = 'ReplicationError';
  readonly retriable = true;
  constructor(
    readonly node: string,
    why: string,
  ) {
    super(`Redis node ${node}: ${why}`);
  }
}

/** Whether writes through this client must reach replicas (REDIS_WAIT_REPLICAS above 0) before they count. */
export function requiresReplication(redis: RedisClient): boolean {
  return durabilityOf.has(redis);
}

/** The connection a write to a key goes out on: the master the client routes the key's slot to, and that connection's socket. */
interface Route {
  node: Redis | undefined;
  stream: unknown;
}

/** Per master (host:port, or the slot when no master is known), the connection the client would use now. */
function routesOf(redis: RedisClient, keys: Iterable<string>): Map<string, Route> {
  const routes = new Map<string, Route>();
  if (!isCluster(redis)) {
    routes.set('the node', { node: redis, stream: redis.stream });
    return routes;
  }
  const masters = new Map(redis.nodes('master').map((n) => [`${n.options.host}:${n.options.port}`, n]));
  for (const key of keys) {
    const slot = slotOf(key);
    const owner = redis.slots[slot]?.[0];
    const name = owner ?? `of slot ${slot} (no master known)`;
    if (routes.has(name)) continue;
    const node = owner === undefined ? undefined : masters.get(owner);
    routes.set(name, { node, stream: node?.stream });
  }
  return routes;
}

/**
 * Taken before a batch of writes to `keys`; the returned check, awaited after them, waits until
 * the required replicas (Durability) hold those writes: WAIT on each master that took them, on
 * the connection that carried them (WAIT covers that connection's writes only and takes no key,
 * so it is routed here, not by the cluster client). Throws ReplicationError when a master answers
 * fewer replicas, and when the route changed in between (a master dropped from the client after a
 * kill, a slot moved, a reconnect): WAIT elsewhere would confirm nothing about writes that a dead
 * master acknowledged, so the caller redoes them. A no-op without Durability.
 */
export function replicationCheck(redis: RedisClient, keys: () => Iterable<string>): () => Promise<void> {
  const d = durabilityOf.get(redis);
  if (!d) return () => Promise.resolve();
  const list = [...keys()];
  const before = routesOf(redis, list);
  return async () => {
    const now = routesOf(redis, list);
    for (const [name, route] of now) {
      const was = before.get(name);
      if (
        !route.node ||
        !was ||
        was.node !== route.node ||
        was.stream !== route.stream ||
        route.node.status !== 'ready'
      ) {
        throw new ReplicationError(
          name,
          'the connection that took the writes changed or is gone (a failover or reconnect), so they cannot be confirmed',
        );
      }
    }
    if (now.size !== before.size)
      throw new ReplicationError(
        [...before.keys()].find((k) => !now.has(k))!,
        "the writes' route changed (a failover under way)",
      );
    await Promise.all(
      [...now].map(async ([name, { node }]) => {
        const acknowledged = Number(
          await node!.call('WAIT', String(d.replicas), String(d.timeoutMs)).catch(() => {
            throw new ReplicationError(name, 'the connection that took the writes failed before confirming them');
          }),
        );
        if (acknowledged < d.replicas)
          throw new ReplicationError(
            name,
            `${acknowledged} of ${d.replicas} required replica(s) acknowledged the writes in time`,
          );
      }),
    );
  };
}

/**
 * A pipeline for any mix of keys. On one node, the node's own pipeline. On a cluster, the
 * commands are held until `exec`, then each is sent on its own and autopipelining gathers those
 * of one node into one write; `exec` answers like a pipeline, `[error, reply]` per command in
 * order, and each command follows MOVED/ASK redirections by itself (a cluster pipeline would
 * not, for writes). Nothing leaves before `exec`, as with a pipeline: callers order batches
 * (outbox drops before the journal that names them) and take replication snapshots before
 * sending, and both rely on it.
 */
export function pipelineOf(redis: RedisClient): ChainableCommander {
  if (!isCluster(redis)) return redis.pipeline();
  const calls: Array<[string | symbol, unknown[]]> = [];
  const target = redis as unknown as Record<string | symbol, (...args: unknown[]) => Promise<unknown>>;
  const batch: ChainableCommander = new Proxy({} as ChainableCommander, {
    get(_, command) {
      if (command === 'exec') {
        return async () =>
          Promise.all(
            calls.map(([c, args]) =>
              target[c]!.apply(redis, args).then(
                (v): [null, unknown] => [null, v],
                (e: unknown): [Error, null] => [e as Error, null],
              ),
            ),
          );
      }
      if (command === 'length') return calls.length;
      if (command === 'then') return undefined;
      return (...args: unknown[]) => {
        calls.push([command, args]);
        return batch;
      };
    },
  });
  return batch;
}

/**
 * The nodes that hold keys: the masters of a cluster, or the one node. A cluster client knows
 * its nodes only once it has loaded the slot map: wait for that first (a fresh client has none).
 */
export async function dataNodes(redis: RedisClient): Promise<Redis[]> {
  if (!isCluster(redis)) return [redis];
  if (redis.status !== 'ready') {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('Redis Cluster not ready within 30 s')), 30_000);
      redis.once('ready', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
  return redis.nodes('master');
}

/** Every key matching `pattern`, in pages, over every node that holds keys, with the node that holds them (read them there in one pipeline). */
export async function* scanKeysByNode(
  redis: RedisClient,
  pattern: string,
  count = 1000,
): AsyncGenerator<{ node: Redis; keys: string[] }> {
  for (const node of await dataNodes(redis)) {
    for (let cursor = '0'; ;) {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', count);
      if (keys.length > 0) yield { node, keys };
      cursor = next;
      if (cursor === '0') break;
    }
  }
}

/** Every key matching `pattern`, in pages, over every node that holds keys. */
export async function* scanKeys(redis: RedisClient, pattern: string, count = 1000): AsyncGenerator<string[]> {
  for await (const page of scanKeysByNode(redis, pattern, count)) yield page.keys;
}

/** Deletes every key matching `pattern` (UNLINK, per node: keys of one page may lie in many slots). */
export async function deleteKeys(redis: RedisClient, pattern: string): Promise<number> {
  let deleted = 0;
  for await (const { node, keys } of scanKeysByNode(redis, pattern, 2000)) {
    const batch = node.pipeline();
    for (const k of keys) batch.unlink(k);
    for (const [err, n] of (await batch.exec()) ?? []) {
      if (err) throw err;
      deleted += Number(n);
    }
  }
  return deleted;
}
