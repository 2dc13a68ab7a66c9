import type { Kafka } from 'kafkajs';
import type { Env } from './config/env.js';
import { createKafka } from './kafka/client.js';
import type { Logger } from './log.js';
import { connectRedis, type Durability, type RedisClient, type RedisTarget } from './redis/client.js';
import { AvroCodec } from './registry/codec.js';

/** The three connections every command and worker needs, built from validated config. */
export interface Clients {
  kafka: Kafka;
  redis: RedisClient;
  codec: AvroCodec;
  close(): Promise<void>;
}

/** Whether the workers publish in transactions: MEMBERFLOW_TRANSACTIONS, on by default with either client. */
export function transactionsSetting(env: Pick<Env, 'MEMBERFLOW_TRANSACTIONS'>): 'on' | 'off' {
  return env.MEMBERFLOW_TRANSACTIONS ?? 'on';
}

export function connectClients(env: Env, log: Logger, clientId: string): Clients {
  // The worker runtime's client follows MEMBERFLOW_KAFKA_CLIENT; admin tooling on `kafka` stays on kafkajs (kafka/client.ts).
  const transactions = transactionsSetting(env);
  const kafka = createKafka(env.KAFKA_BROKERS, clientId, log, env.MEMBERFLOW_KAFKA_CLIENT, transactions === 'on' ? { timeoutMs: env.KAFKA_TRANSACTION_TIMEOUT_MS } : false);
  const redis = connectRedis(redisTarget(env), {}, durability(env));
  redis.on('error', (err) => log.warn({ err: { message: err.message } }, 'redis connection error'));
  const codec = new AvroCodec(env.SCHEMA_REGISTRY_URL, env.MEMBERFLOW_NAMESPACE);
  return {
    kafka,
    redis,
    codec,
    async close() {
      redis.disconnect();
    },
  };
}

/** The Redis a process uses: the cluster of REDIS_CLUSTER_NODES when set, else REDIS_URL's node. */
export function redisTarget(env: Pick<Env, 'REDIS_URL' | 'REDIS_CLUSTER_NODES'>): RedisTarget {
  return env.REDIS_CLUSTER_NODES ? { clusterNodes: env.REDIS_CLUSTER_NODES } : { url: env.REDIS_URL };
}

/** Replicas a batch's writes must reach before its offsets are committed (REDIS_WAIT_REPLICAS; 1 on a cluster by default). */
export function durability(env: Pick<Env, 'REDIS_CLUSTER_NODES' | 'REDIS_WAIT_REPLICAS' | 'REDIS_WAIT_TIMEOUT_MS'>): Durability {
  return { replicas: env.REDIS_WAIT_REPLICAS ?? (env.REDIS_CLUSTER_NODES ? 1 : 0), timeoutMs: env.REDIS_WAIT_TIMEOUT_MS };
}
