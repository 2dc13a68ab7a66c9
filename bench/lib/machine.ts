/** The machine and versions a bench ran on, for the report. */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import type { Env } from '../../shared/config/env.js';
import { redisVersion, statsConnection } from './redis-usage.js';

export interface MachineInfo {
  cores: number;
  cpu: string;
  memoryGiB: number;
  node: string;
  kafka: string;
  redis: string;
  /** Kafka brokers named in KAFKA_BROKERS (the native stack's cluster names all three). */
  brokers?: number;
  client: string;
}

export async function machineInfo(env: Env): Promise<MachineInfo> {
  const redis = await statsConnection(env);
  const redisV = await redisVersion(redis);
  const redisMasters = 'nodes' in redis ? redis.nodes('master').length : 1;
  redis.disconnect();
  return {
    cores: os.cpus().length,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    kafka: process.env.BENCH_KAFKA_VERSION ?? nativeStackKafkaVersion(),
    redis: env.REDIS_CLUSTER_NODES ? `${redisV}, a Redis Cluster of ${redisMasters} masters` : redisV,
    brokers: env.KAFKA_BROKERS.length,
    client: process.env.MEMBERFLOW_KAFKA_CLIENT ?? 'kafkajs',
  };
}

/** The broker version the native stack runs (stack/pom.xml); set BENCH_KAFKA_VERSION for another broker. */
function nativeStackKafkaVersion(): string {
  try {
    const pom = readFileSync(new URL('../../stack/pom.xml', import.meta.url), 'utf8');
    const v = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(pom)?.[1];
    return v ? `${v} (native stack, KRaft)` : 'unknown';
  } catch {
    return 'unknown';
  }
}
