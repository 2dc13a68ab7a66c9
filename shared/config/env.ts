import { z } from 'zod';

/**
 * Process configuration, read once from the environment and validated, so a
 * misconfigured worker stops at start with a message naming the variable.
 */
const namespacePattern = /^[a-z0-9][a-z0-9_-]{0,47}$/;

/** host:port with a port Kafka or Redis can listen on (1-65535). */
function isHostPort(s: string): boolean {
  const m = /^([^\s:]+):(\d{1,5})$/.exec(s);
  return m !== null && Number(m[2]) >= 1 && Number(m[2]) <= 65_535;
}

function parsedUrl(s: string): URL | null {
  try {
    return new URL(s);
  } catch {
    return null;
  }
}

/** A URL whose port, when given, is 1-65535 (URL itself refuses larger ones; 0 it accepts). */
const portOk = (u: URL) => u.port === '' || (Number(u.port) >= 1 && Number(u.port) <= 65_535);

/** Redis databases of a default server: 0-15. An index past the server's count makes every command fail, for ever. */
function redisDbOk(u: URL): boolean {
  const path = u.pathname.replace(/^\//, '');
  return path === '' || (/^\d{1,2}$/.test(path) && Number(path) <= 15);
}

const fields = z.object({
  KAFKA_BROKERS: z
    .string()
    .default('127.0.0.1:9092')
    .transform((s) =>
      s
        .split(',')
        .map((b) => b.trim())
        .filter(Boolean),
    )
    .refine((list) => list.length > 0 && list.every(isHostPort), {
      error: 'expected a comma-separated list of host:port with ports 1-65535, e.g. 127.0.0.1:9092',
    }),
  /** SASL for Kafka: the mechanism, the user and its password (all three or none). The password is a secret, never printed. */
  KAFKA_SASL_MECHANISM: z.enum(['scram-sha-512', 'scram-sha-256', 'plain']).optional(),
  KAFKA_SASL_USERNAME: z.string().min(1).optional(),
  KAFKA_SASL_PASSWORD: z.string().min(1).optional(),
  /** TLS to Kafka: on with the system's CAs, or set by naming a CA file (PEM); a client certificate and key (both or neither) as an option. */
  KAFKA_TLS: z.enum(['on', 'off']).optional(),
  KAFKA_TLS_CA_FILE: z.string().min(1).optional(),
  KAFKA_TLS_CERT_FILE: z.string().min(1).optional(),
  KAFKA_TLS_KEY_FILE: z.string().min(1).optional(),
  SCHEMA_REGISTRY_URL: z
    .string()
    .default('http://127.0.0.1:8081/apis/ccompat/v7')
    .refine(
      (s) => {
        const u = parsedUrl(s);
        return u !== null && (u.protocol === 'http:' || u.protocol === 'https:') && portOk(u);
      },
      { error: 'expected an http(s) URL of a Confluent-compatible registry, port 1-65535' },
    ),
  /** Basic auth for the registry: a user and its password, both or neither. The password is a secret, never printed. */
  SCHEMA_REGISTRY_USERNAME: z.string().min(1).optional(),
  SCHEMA_REGISTRY_PASSWORD: z.string().min(1).optional(),
  /** A bearer token for the registry instead of basic auth. A secret, never printed. */
  SCHEMA_REGISTRY_TOKEN: z.string().min(1).optional(),
  /** The CA (PEM file) that signed an https registry's certificate, when not one the system trusts. */
  SCHEMA_REGISTRY_CA_FILE: z.string().min(1).optional(),
  REDIS_URL: z
    .string()
    .default('redis://127.0.0.1:6379')
    .refine(
      (s) => {
        const u = parsedUrl(s);
        return (
          u !== null &&
          (u.protocol === 'redis:' || u.protocol === 'rediss:') &&
          u.hostname !== '' &&
          portOk(u) &&
          redisDbOk(u)
        );
      },
      { error: 'expected redis://[user:password@]host:port[/db] (or rediss://), port 1-65535, db 0-15' },
    ),
  /**
   * Redis Cluster mode: a comma-separated list of seed nodes (host:port); the client finds the
   * rest. Unset: the single node of REDIS_URL.
   */
  REDIS_CLUSTER_NODES: z
    .string()
    .optional()
    .transform((s) =>
      s === undefined || s.trim() === ''
        ? undefined
        : s
            .split(',')
            .map((n) => n.trim())
            .filter(Boolean),
    )
    .refine((list) => list === undefined || (list.length > 0 && list.every(isHostPort)), {
      error: 'expected a comma-separated list of host:port with ports 1-65535, e.g. 127.0.0.1:7000,127.0.0.1:7001',
    }),
  /**
   * TLS to Redis: the CA (PEM file) that signed the server's certificate. Set, TLS is on, for
   * REDIS_URL and REDIS_CLUSTER_NODES alike; a rediss:// URL alone uses the system's CAs.
   */
  REDIS_TLS_CA_FILE: z.string().min(1).optional(),
  /** A client certificate and its key (PEM files, both or neither), for a server with tls-auth-clients. */
  REDIS_TLS_CERT_FILE: z.string().min(1).optional(),
  REDIS_TLS_KEY_FILE: z.string().min(1).optional(),
  /** An ACL user and its password for REDIS_CLUSTER_NODES (REDIS_URL carries its own: redis://user:password@host). A secret, never printed. */
  REDIS_USERNAME: z.string().min(1).optional(),
  REDIS_PASSWORD: z.string().min(1).optional(),
  /**
   * Replicas that must hold a batch's Redis writes before its offsets are committed (WAIT on
   * each master written). Unset: 1 on a Redis Cluster, 0 on one node. docs/SCALING.md.
   */
  REDIS_WAIT_REPLICAS: z.coerce.number().int().min(0).max(16).optional(),
  /** How long one WAIT may take; fewer replicas by then and the batch is redone. */
  REDIS_WAIT_TIMEOUT_MS: z.coerce.number().int().min(10).max(60_000).default(2000),
  MEMBERFLOW_NAMESPACE: z
    .string()
    .default('mf')
    .refine((s) => namespacePattern.test(s), {
      error: 'expected 1-48 chars of a-z, 0-9, "_" or "-", starting with a letter or digit',
    }),
  MEMBERFLOW_RULES_FILE: z.string().optional(),
  MEMBERFLOW_TOPIC_PARTITIONS: z.coerce.number().int().min(1).max(1024).default(6),
  /** How long the group waits for a silent worker before giving its partitions away (a crashed one never says goodbye). */
  KAFKA_SESSION_TIMEOUT_MS: z.coerce.number().int().min(6000).max(300_000).default(30_000),
  /** Upper bound of one fetched batch per partition: smaller batches mean less work redone after a crash. */
  KAFKA_MAX_BYTES_PER_PARTITION: z.coerce
    .number()
    .int()
    .min(1024)
    .max(64 * 1024 * 1024)
    .default(1_048_576),
  /**
   * A fetch returns once this many bytes are there or KAFKA_FETCH_MAX_WAIT_MS passed. Under a steady
   * trickle a larger minimum means fewer, larger batches, each with fixed round trips (Redis load and
   * write, produce, offset commit); at 2,000 events/s on two cores it saved no CPU (docs/BENCHMARKS.md).
   * Unset: the client's default (1 byte).
   */
  KAFKA_FETCH_MIN_BYTES: z.coerce
    .number()
    .int()
    .min(1)
    .max(64 * 1024 * 1024)
    .optional(),
  KAFKA_FETCH_MAX_WAIT_MS: z.coerce.number().int().min(1).max(60_000).optional(),
  /** Partitions one worker process works on at once (kafkajs' partitionsConsumedConcurrently): overlaps one batch's I/O with another's CPU. */
  KAFKA_PARTITIONS_CONCURRENTLY: z.coerce.number().int().min(1).max(1024).default(3),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /**
   * The Kafka client of the worker runtime: kafkajs (default), or confluent, the KafkaJS-compatible API of
   * @confluentinc/kafka-javascript (librdkafka; an optional dependency, see shared/kafka/confluent/library.ts).
   */
  MEMBERFLOW_KAFKA_CLIENT: z.enum(['kafkajs', 'confluent']).default('kafkajs'),
  /**
   * on: each batch's outputs and input offsets are committed in one Kafka transaction, so a
   * `read_committed` consumer reads every output once (shared/kafka/transactions.ts). off: an
   * idempotent producer and a plain offset commit; after a crash outputs may be published twice.
   * Unset: on, with either Kafka client.
   */
  MEMBERFLOW_TRANSACTIONS: z.enum(['on', 'off']).optional(),
  /**
   * The key ticks on activity.events are signed with (HMAC-SHA256; shared/kernel/tick-signature.ts):
   * the ticker needs it, and a worker reading activity.events refuses ticks it cannot check. A
   * secret: at least 16 characters, never printed.
   */
  MEMBERFLOW_TICK_KEY: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z.string().min(16, { error: 'expected at least 16 characters' }).optional(),
  ),
  /**
   * How far a signed tick on a LogAppendTime topic (activity.events) may run ahead of the broker's
   * append time; further, it is a dead letter (tick_ahead_of_append_time). Five minutes by default
   * (shared/kernel/tick-signature.ts defaultTickMaxAheadMs).
   */
  MEMBERFLOW_TICK_MAX_AHEAD_MS: z.coerce
    .number()
    .int()
    .min(0)
    .max(365 * 24 * 3600 * 1000)
    .default(300_000),
  /**
   * The operations port of `memberflow run`: /metrics (Prometheus), /healthz, /readyz
   * (shared/observability, docs/OPERATIONS.md). Unset: no port; 0: any free port (logged).
   */
  MEMBERFLOW_METRICS_PORT: z.coerce.number().int().min(0).max(65_535).optional(),
  /** The address the operations port listens on. */
  MEMBERFLOW_METRICS_HOST: z.string().min(1).default('0.0.0.0'),
  /** An assigned partition with lag and no committed progress for this long makes /readyz answer 503. */
  MEMBERFLOW_STALL_MS: z.coerce.number().int().min(1000).max(3_600_000).default(60_000),
  /** How often lag and the dependencies (Kafka, Redis, the registry) are checked for /readyz and the lag gauges. */
  MEMBERFLOW_HEALTH_INTERVAL_MS: z.coerce.number().int().min(100).max(300_000).default(5_000),
  /** SIGTERM: how long the process may take to finish its batches and commits before it exits anyway (code 1). */
  MEMBERFLOW_SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(1000).max(600_000).default(30_000),
  /** Tests only: stop a worker at an exact step (shared/kernel/failpoints.ts); unset in production. */
  MEMBERFLOW_FAILPOINT: z.preprocess((v) => (v === '' ? undefined : v), z.string().optional()),
  /** Where `memberflow run` writes each worker's totals as JSON when it stops (the bench reads its rates there). */
  MEMBERFLOW_TOTALS_FILE: z.preprocess((v) => (v === '' ? undefined : v), z.string().optional()),
  /** How long the broker keeps a worker's open transaction when the worker died mid-batch (at most the broker's transaction.max.timeout.ms). */
  KAFKA_TRANSACTION_TIMEOUT_MS: z.coerce.number().int().min(1000).max(900_000).default(30_000),
});

const envSchema = fields.superRefine((env, ctx) => {
  const sasl = [env.KAFKA_SASL_MECHANISM, env.KAFKA_SASL_USERNAME, env.KAFKA_SASL_PASSWORD];
  if (sasl.some((v) => v !== undefined) && sasl.some((v) => v === undefined)) {
    const missing = (['KAFKA_SASL_MECHANISM', 'KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD'] as const).find(
      (k) => env[k] === undefined,
    )!;
    ctx.addIssue({
      code: 'custom',
      path: [missing],
      message: 'expected together with KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD',
    });
  }
  if ((env.KAFKA_TLS_CERT_FILE === undefined) !== (env.KAFKA_TLS_KEY_FILE === undefined)) {
    const missing = env.KAFKA_TLS_CERT_FILE === undefined ? 'KAFKA_TLS_CERT_FILE' : 'KAFKA_TLS_KEY_FILE';
    ctx.addIssue({
      code: 'custom',
      path: [missing],
      message: 'expected together with KAFKA_TLS_CERT_FILE and KAFKA_TLS_KEY_FILE (a client certificate and its key)',
    });
  }
  if ((env.SCHEMA_REGISTRY_USERNAME === undefined) !== (env.SCHEMA_REGISTRY_PASSWORD === undefined)) {
    const missing =
      env.SCHEMA_REGISTRY_USERNAME === undefined ? 'SCHEMA_REGISTRY_USERNAME' : 'SCHEMA_REGISTRY_PASSWORD';
    ctx.addIssue({
      code: 'custom',
      path: [missing],
      message: 'expected together with SCHEMA_REGISTRY_USERNAME and SCHEMA_REGISTRY_PASSWORD (basic auth)',
    });
  }
  if (env.SCHEMA_REGISTRY_TOKEN !== undefined && env.SCHEMA_REGISTRY_USERNAME !== undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['SCHEMA_REGISTRY_TOKEN'],
      message: 'expected either a bearer token or basic auth (SCHEMA_REGISTRY_USERNAME), not both',
    });
  }
  if ((env.REDIS_TLS_CERT_FILE === undefined) !== (env.REDIS_TLS_KEY_FILE === undefined)) {
    const missing = env.REDIS_TLS_CERT_FILE === undefined ? 'REDIS_TLS_CERT_FILE' : 'REDIS_TLS_KEY_FILE';
    ctx.addIssue({
      code: 'custom',
      path: [missing],
      message: 'expected together with REDIS_TLS_CERT_FILE and REDIS_TLS_KEY_FILE (a client certificate and its key)',
    });
  }
});

export type Env = z.infer<typeof envSchema>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function loadEnv(source: NodeJS.ProcessEnv = process.env): Env {
  const parsed = envSchema.safeParse(source);
  if (!parsed.success) {
    // The variable and the rule, never the value: a URL may hold a password.
    const lines = parsed.error.issues.map((issue) => {
      const variable = issue.path.join('.') || '(environment)';
      return `  ${variable}${source[variable] === undefined ? ' (unset)' : ''}: ${issue.message}`;
    });
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  return parsed.data;
}

export function isValidNamespace(ns: string): boolean {
  return namespacePattern.test(ns);
}
