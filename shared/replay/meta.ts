import { replayMetaKey } from '../redis/keys.js';
/** What a replay namespace is: kept in Redis beside its state, so `replay run` can resume and `promote` can check. */
import type { RedisClient } from '../redis/client.js';
import type { PartitionRange } from './positions.js';

export type ReplayStatus = 'running' | 'done' | 'promoted';

export interface ReplayMeta {
  worker: string;
  /** The topic namespace whose inputs it reads (and whose live pointer a promote moves). */
  liveNamespace: string;
  namespace: string;
  from: string;
  ranges: PartitionRange[];
  /** Keep reading past the planned end (the live high watermark moves on). */
  follow: boolean;
  /** The rules it runs under, JSON, and their version. */
  rules: string;
  rulesVersion: string;
  createdAt: number;
  status: ReplayStatus;
}

export async function readReplayMeta(redis: RedisClient, namespace: string): Promise<ReplayMeta | null> {
  const raw = await redis.get(replayMetaKey(namespace));
  return raw === null ? null : (JSON.parse(raw) as ReplayMeta);
}

export async function writeReplayMeta(redis: RedisClient, meta: ReplayMeta): Promise<void> {
  await redis.set(replayMetaKey(meta.namespace), JSON.stringify(meta));
}
