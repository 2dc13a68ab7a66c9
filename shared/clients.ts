import { Redis } from 'ioredis';
import type { Kafka } from 'kafkajs';
import type { Env } from './config/env.js';
import { createKafka } from './kafka/client.js';
import type { Logger } from './log.js';
import { AvroCodec } from './registry/codec.js';

/** The three connections every command and worker needs, built from validated config. */
export interface Clients {
  kafka: Kafka;
  redis: Redis;
  codec: AvroCodec;
  close(): Promise<void>;
}

export function connectClients(env: Env, log: Logger, clientId: string): Clients {
  // The worker runtime's client follows MEMBERFLOW_KAFKA_CLIENT; admin tooling on `kafka` stays on kafkajs (kafka/client.ts).
  const kafka = createKafka(env.KAFKA_BROKERS, clientId, log, env.MEMBERFLOW_KAFKA_CLIENT);
  const redis = new Redis(env.REDIS_URL, { maxRetriesPerRequest: 5, enableAutoPipelining: false, lazyConnect: false });
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
