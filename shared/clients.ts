import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type { Kafka } from 'kafkajs';
import { ConfigError, type Env } from './config/env.js';
import { createKafka, type KafkaSecurity } from './kafka/client.js';
import type { Logger } from './log.js';
import { connectRedis, type Durability, type RedisClient, type RedisTarget } from './redis/client.js';
import type { RegistryAccess } from './registry/access.js';
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
  const kafka = createKafka(
    env.KAFKA_BROKERS,
    clientId,
    log,
    env.MEMBERFLOW_KAFKA_CLIENT,
    transactions === 'on' ? { timeoutMs: env.KAFKA_TRANSACTION_TIMEOUT_MS } : false,
    kafkaSecurityOf(env),
  );
  const redis = connectRedis(redisTarget(env), {}, durability(env));
  redis.on('error', (err: Error) => log.warn({ err }, 'redis connection error'));
  const codec = new AvroCodec(registryAccessOf(env), env.MEMBERFLOW_NAMESPACE);
  return {
    kafka,
    redis,
    codec,
    // eslint-disable-next-line @typescript-eslint/require-await -- Clients.close returns a Promise (a throw becomes a rejection)
    async close() {
      redis.disconnect();
    },
  };
}

type KafkaEnv = Pick<
  Env,
  | 'KAFKA_SASL_MECHANISM'
  | 'KAFKA_SASL_USERNAME'
  | 'KAFKA_SASL_PASSWORD'
  | 'KAFKA_TLS'
  | 'KAFKA_TLS_CA_FILE'
  | 'KAFKA_TLS_CERT_FILE'
  | 'KAFKA_TLS_KEY_FILE'
>;

/** TLS and SASL for Kafka from the environment: TLS when KAFKA_TLS=on or a TLS file is named (KAFKA_TLS=off wins). */
export function kafkaSecurityOf(env: KafkaEnv): KafkaSecurity {
  const files = env.KAFKA_TLS_CA_FILE !== undefined || env.KAFKA_TLS_CERT_FILE !== undefined;
  const tls = env.KAFKA_TLS === 'on' || (env.KAFKA_TLS !== 'off' && files);
  return {
    ...(tls
      ? {
          tls: {
            ...(env.KAFKA_TLS_CA_FILE !== undefined ? { ca: readPem('KAFKA_TLS_CA_FILE', env.KAFKA_TLS_CA_FILE) } : {}),
            ...(env.KAFKA_TLS_CERT_FILE !== undefined && env.KAFKA_TLS_KEY_FILE !== undefined
              ? {
                  cert: readPem('KAFKA_TLS_CERT_FILE', env.KAFKA_TLS_CERT_FILE),
                  key: readPem('KAFKA_TLS_KEY_FILE', env.KAFKA_TLS_KEY_FILE),
                }
              : {}),
          },
        }
      : {}),
    ...(env.KAFKA_SASL_MECHANISM !== undefined &&
    env.KAFKA_SASL_USERNAME !== undefined &&
    env.KAFKA_SASL_PASSWORD !== undefined
      ? {
          sasl: {
            mechanism: env.KAFKA_SASL_MECHANISM,
            username: env.KAFKA_SASL_USERNAME,
            password: env.KAFKA_SASL_PASSWORD,
          },
        }
      : {}),
  };
}

type RegistryEnv = Pick<
  Env,
  | 'SCHEMA_REGISTRY_URL'
  | 'SCHEMA_REGISTRY_USERNAME'
  | 'SCHEMA_REGISTRY_PASSWORD'
  | 'SCHEMA_REGISTRY_TOKEN'
  | 'SCHEMA_REGISTRY_CA_FILE'
>;

/** How to reach the registry: its URL, basic auth or a bearer token, and a private CA, from the environment. */
export function registryAccessOf(env: RegistryEnv): RegistryAccess {
  return {
    url: env.SCHEMA_REGISTRY_URL,
    ...(env.SCHEMA_REGISTRY_USERNAME !== undefined && env.SCHEMA_REGISTRY_PASSWORD !== undefined
      ? { basic: { username: env.SCHEMA_REGISTRY_USERNAME, password: env.SCHEMA_REGISTRY_PASSWORD } }
      : {}),
    ...(env.SCHEMA_REGISTRY_TOKEN !== undefined ? { token: env.SCHEMA_REGISTRY_TOKEN } : {}),
    ...(env.SCHEMA_REGISTRY_CA_FILE !== undefined
      ? { ca: readPem('SCHEMA_REGISTRY_CA_FILE', env.SCHEMA_REGISTRY_CA_FILE) }
      : {}),
  };
}

/** A PEM file named by a variable; unreadable, a config error naming the variable (not the path's contents). */
function readPem(variable: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new ConfigError(
      `invalid configuration:\n  ${variable}: expected a readable PEM file (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`,
    );
  }
}

type RedisEnv = Pick<
  Env,
  | 'REDIS_URL'
  | 'REDIS_CLUSTER_NODES'
  | 'REDIS_TLS_CA_FILE'
  | 'REDIS_TLS_CERT_FILE'
  | 'REDIS_TLS_KEY_FILE'
  | 'REDIS_USERNAME'
  | 'REDIS_PASSWORD'
>;

/** The Redis a process uses: the cluster of REDIS_CLUSTER_NODES when set, else REDIS_URL's node; TLS and credentials from the environment. */
export function redisTarget(env: RedisEnv): RedisTarget {
  const tls = redisTls(env);
  const security = { ...(tls ? { tls } : {}) };
  if (!env.REDIS_CLUSTER_NODES) return { url: env.REDIS_URL, ...security };
  return {
    clusterNodes: env.REDIS_CLUSTER_NODES,
    ...security,
    ...(env.REDIS_USERNAME ? { username: env.REDIS_USERNAME } : {}),
    ...(env.REDIS_PASSWORD ? { password: env.REDIS_PASSWORD } : {}),
  };
}

/** TLS options from the REDIS_TLS_* files, or none when no file is named. */
function redisTls(env: RedisEnv): ConnectionOptions | undefined {
  if (env.REDIS_TLS_CA_FILE === undefined && env.REDIS_TLS_CERT_FILE === undefined) return undefined;
  return {
    ...(env.REDIS_TLS_CA_FILE !== undefined ? { ca: readPem('REDIS_TLS_CA_FILE', env.REDIS_TLS_CA_FILE) } : {}),
    ...(env.REDIS_TLS_CERT_FILE !== undefined && env.REDIS_TLS_KEY_FILE !== undefined
      ? {
          cert: readPem('REDIS_TLS_CERT_FILE', env.REDIS_TLS_CERT_FILE),
          key: readPem('REDIS_TLS_KEY_FILE', env.REDIS_TLS_KEY_FILE),
        }
      : {}),
  };
}

/** Replicas a batch's writes must reach before its offsets are committed (REDIS_WAIT_REPLICAS; 1 on a cluster by default). */
export function durability(
  env: Pick<Env, 'REDIS_CLUSTER_NODES' | 'REDIS_WAIT_REPLICAS' | 'REDIS_WAIT_TIMEOUT_MS'>,
): Durability {
  return {
    replicas: env.REDIS_WAIT_REPLICAS ?? (env.REDIS_CLUSTER_NODES ? 1 : 0),
    timeoutMs: env.REDIS_WAIT_TIMEOUT_MS,
  };
}
