import { createServer } from 'node:net';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { Admin, Producer } from 'kafkajs';
import { inject } from 'vitest';
import { workers } from '../../services/index.js';
import { connectClients, type Clients } from '../../shared/clients.js';
import { loadEnv, type Env } from '../../shared/config/env.js';
import { defaultRules, type Rules } from '../../shared/config/rules.js';
import { createProducer, ensureTopics, eventIdHeader, isProducerStateError } from '../../shared/kafka/client.js';
import { isTransientClusterError, restartDelayMs } from '../../shared/kafka/transient.js';
import { logicalTopics, physicalTopic, topicSpecs, type LogicalTopic } from '../../shared/contracts/topics.js';
import { behaviorLogic } from '../../services/behavior-events/decide.js';
import { ActivityDecoder } from '../../services/behavior-events/decode.js';
import type { MemberProfile } from '../../services/behavior-events/profile.js';
import { referenceRun, type ReferenceResult } from '../../shared/kernel/reference-run.js';
import { defaultLimits, runWorker } from '../../shared/runtime/run-worker.js';
import type { RunningWorker } from '../../shared/runtime/worker-options.js';
import type { InputRecord } from '../../shared/kernel/types.js';
import { createLogger, type Logger } from '../../shared/log.js';
import { readToEnd } from '../../shared/kafka/read-to-end.js';
import { tickHeader, tickTimeFromHeader } from '../../shared/kernel/ticks.js';
import type { Decoded, InputDecoder } from '../../shared/kernel/types.js';
import type { WorkerDefinition } from '../../shared/runtime/worker-definition.js';
import { connectRedis, deleteKeys, scanKeys, type RedisClient } from '../../shared/redis/client.js';
import { namespacePattern } from '../../shared/redis/keys.js';

const compactedTopics = new Set<LogicalTopic>(
  topicSpecs.filter((t) => t.config['cleanup.policy']?.includes('compact')).map((t) => t.logical),
);

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

const tickPlaceholder: Decoded<never> = {
  kind: 'rejected',
  rejection: { reason: 'tick', message: 'a tick' },
  eventId: null,
  memberId: null,
};

/** A worker process, with the tail of what it wrote to stderr. */
export type WorkerProcess = ChildProcess & { stderrText(): string };

export interface ReadRecord extends InputRecord {
  id: string | null;
  decoded: unknown;
}

/** A private corner of the real stack for one test file: its own namespace, topics, schemas and Redis keys. */
/** The three connections a worker runs on. */
type Connections = Pick<Clients, 'kafka' | 'redis' | 'codec'>;

export class TestStack {
  readonly env: Env;
  readonly rules: Rules = defaultRules();
  readonly log: Logger;
  readonly clients: Clients;
  private currentAdmin: Admin;
  private currentProducer: Producer;
  private readonly children = new Set<ChildProcess>();
  /** The last topics read to their end, by their partitions' offsets then (see readAll). */
  private readonly lastReads = new Map<string, { ends: string; records: ReadRecord[] }>();

  private constructor(
    readonly ns: string,
    partitions: number,
    redisDb?: number,
    envOverrides: Record<string, string> = {},
  ) {
    const stack = inject('stack');
    this.env = loadEnv({
      KAFKA_BROKERS: stack.KAFKA_BROKERS,
      SCHEMA_REGISTRY_URL: stack.SCHEMA_REGISTRY_URL,
      REDIS_URL: redisDb === undefined ? stack.REDIS_URL : withDatabase(stack.REDIS_URL, redisDb),
      ...(stack.REDIS_CLUSTER_NODES ? { REDIS_CLUSTER_NODES: stack.REDIS_CLUSTER_NODES } : {}),
      MEMBERFLOW_NAMESPACE: ns,
      MEMBERFLOW_TOPIC_PARTITIONS: String(partitions),
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
      MEMBERFLOW_TICK_KEY: process.env.MEMBERFLOW_TICK_KEY ?? 'test-tick-key-not-a-secret',
      // The worker runtime's Kafka client, for in-process workers too (spawned ones inherit it).
      ...(process.env.MEMBERFLOW_KAFKA_CLIENT ? { MEMBERFLOW_KAFKA_CLIENT: process.env.MEMBERFLOW_KAFKA_CLIENT } : {}),
      ...envOverrides,
    });
    this.log = createLogger(this.env.LOG_LEVEL, `test-${ns}`);
    this.clients = connectClients(this.env, this.log, `test-${ns}`);
    this.currentAdmin = this.clients.kafka.admin();
    this.currentProducer = createProducer(this.clients.kafka);
  }

  /** The stack's idempotent producer (a new one after Kafka refused the last one's sequence numbers). */
  get producer(): Producer {
    return this.currentProducer;
  }

  get admin(): Admin {
    return this.currentAdmin;
  }

  /**
   * Low and high offsets of a topic's partitions. kafkajs' admin keeps partition leaders for five
   * minutes and gives up on NOT_LEADER, so after a broker failover a fresh admin asks again.
   */
  async topicEnds(topic: string): Promise<{ partition: number; offset: string; high: string; low: string }[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.currentAdmin.fetchTopicOffsets(topic);
      } catch (err) {
        if (!isTransientClusterError(err) || attempt >= 20) throw err;
        const stale = this.currentAdmin;
        this.currentAdmin = this.clients.kafka.admin();
        await stale.disconnect().catch(() => undefined);
        await sleep(restartDelayMs(attempt));
        await this.currentAdmin.connect().catch(() => undefined);
      }
    }
  }

  /** `redisDb`: a Redis database of the test's own, for a test that flushes it. */
  /** `env`: settings over the stack's (another broker and its credentials, say). */
  static async create(
    name: string,
    opts: { partitions?: number; redisDb?: number; env?: Record<string, string> } = {},
  ): Promise<TestStack> {
    const ns = `t-${name}-${randomBytes(3).toString('hex')}`.toLowerCase().slice(0, 48);
    if (opts.redisDb !== undefined && inject('stack').REDIS_CLUSTER_NODES)
      throw new Error(
        `${name}: a Redis Cluster has only database 0; a test of its own database runs on the single node only`,
      );
    const s = new TestStack(ns, opts.partitions ?? 3, opts.redisDb, opts.env);
    await s.admin.connect();
    await s.producer.connect();
    await ensureTopics(s.admin, ns, opts.partitions ?? 3, topicSpecs);
    await s.clients.codec.registerAll();
    return s;
  }

  topic(logical: LogicalTopic): string {
    return physicalTopic(this.ns, logical);
  }

  /**
   * Sends records to a topic of the namespace, in order, with an idempotent producer. After a whole
   * Kafka cluster restart the brokers may refuse its sequence numbers for good (OUT_OF_ORDER_SEQUENCE_NUMBER):
   * the producer is replaced and the error thrown, so a caller that retries sends with the new one.
   */
  async produce(
    logical: LogicalTopic,
    messages: { key: string | null; value: Buffer | string | null }[],
  ): Promise<void> {
    for (let i = 0; i < messages.length; i += 1000) {
      try {
        await this.producer.send({
          topic: this.topic(logical),
          acks: -1,
          messages: messages
            .slice(i, i + 1000)
            .map((m) => ({ key: m.key, value: typeof m.value === 'string' ? Buffer.from(m.value) : m.value })),
        });
      } catch (err) {
        if (isProducerStateError(err)) await this.renewProducer();
        throw err;
      }
    }
  }

  private async renewProducer(): Promise<void> {
    const stale = this.currentProducer;
    this.currentProducer = createProducer(this.clients.kafka);
    await stale.disconnect().catch(() => undefined);
    await this.currentProducer.connect();
  }

  async produceJson(events: Record<string, unknown>[]): Promise<void> {
    await this.produce(
      'activity.events',
      events.map((e) => ({ key: typeof e.userId === 'string' ? e.userId : null, value: JSON.stringify(e) })),
    );
  }

  /** Everything in a topic up to its current end, decoded (Avro through the registry, else raw). */
  async readAll(logical: LogicalTopic, opts: { minRecords?: number; timeoutMs?: number } = {}): Promise<ReadRecord[]> {
    const topic = this.topic(logical);
    const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
    for (;;) {
      const records = await this.readToEndOrReuse(logical, topic);
      if (records.length >= (opts.minRecords ?? 0)) return records;
      if (Date.now() > deadline)
        throw new Error(`${topic}: ${records.length} records after waiting, expected at least ${opts.minRecords}`);
      await sleep(250);
    }
  }

  /**
   * A topic read again with every partition's low and high offsets as at the last read holds the same records: that
   * read ended only once every transaction below those offsets was decided. The full pipeline's checks read topics
   * of 400,000 records several times. Compacted topics are always read again (compaction keeps the offsets). The
   * caller gets its own array of the same records, which no caller changes.
   */
  private async readToEndOrReuse(logical: LogicalTopic, topic: string): Promise<ReadRecord[]> {
    if (compactedTopics.has(logical)) return this.readToEnd(topic);
    const ends = JSON.stringify(
      // No retries here: without the offsets the topic is simply read again.
      (await this.admin.fetchTopicOffsets(topic).catch(() => [])).map((e) => [e.partition, e.low, e.high]).sort(),
    );
    const last = this.lastReads.get(topic);
    if (last?.ends === ends && ends !== '[]') return [...last.records];
    const records = await this.readToEnd(topic);
    this.lastReads.delete(topic);
    this.lastReads.set(topic, { ends, records });
    // The two topics read last: enough for the full pipeline's input and output, without holding every topic.
    for (const oldest of this.lastReads.keys()) if (this.lastReads.size > 2) this.lastReads.delete(oldest);
    return [...records];
  }

  private async readToEnd(topic: string): Promise<ReadRecord[]> {
    const out: ReadRecord[] = [];
    await readToEnd(
      this.clients.kafka,
      topic,
      `${this.ns}.reader`,
      async (partition, message) => {
        const value = message.value ?? null;
        const tick = tickTimeFromHeader(message.headers?.[tickHeader] as Buffer | undefined);
        out.push({
          ...(tick === undefined ? {} : { tick }),
          topic,
          partition,
          offset: message.offset,
          timestamp: Number(message.timestamp),
          key: message.key ?? null,
          value,
          id: message.headers?.[eventIdHeader]?.toString() ?? null,
          decoded:
            value && value[0] === 0 && tick === undefined
              ? await this.clients.codec.decode(value).catch(() => value)
              : value,
        });
      },
      { timeoutMs: 120_000 },
    );
    return out.sort((a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)));
  }

  /** The pure reference run of the behavior-events logic over a topic's records, as read back from Kafka. */
  async behaviorReference(inputs: readonly InputRecord[]): Promise<ReferenceResult<MemberProfile>> {
    const decoder = new ActivityDecoder(this.clients.codec, () => this.rules);
    const log = [];
    for (const record of inputs)
      log.push({ record, decoded: record.tick === undefined ? await decoder.decode(record) : tickPlaceholder });
    return referenceRun(behaviorLogic, log, this.rules, defaultLimits(this.rules), {
      forwardTicksTo: 'behavior.events',
    });
  }

  /** Runs a worker inside the test process; `kafka`, `redis`, `codec`: other connections than the stack's (a secured server, say). */
  async startWorker(
    name: string,
    opts: { rules?: Rules; failpoint?: string; transactions?: false } & Partial<Connections> = {},
  ): Promise<RunningWorker> {
    const entry = workers[name]!;
    const rules = opts.rules ?? this.rules;
    const { rules: _, ...runOpts } = opts;
    return this.startDefinition(
      entry.definition,
      entry.decoder(opts.codec ?? this.clients.codec, () => rules),
      rules,
      runOpts,
    );
  }

  /** Runs any worker definition (e.g. a test worker) inside the test process. */
  async startDefinition(
    definition: WorkerDefinition<any, any>, // eslint-disable-line @typescript-eslint/no-explicit-any
    decoder: InputDecoder<any>, // eslint-disable-line @typescript-eslint/no-explicit-any
    rules: Rules = this.rules,
    opts: { inputNamespace?: string; failpoint?: string; transactions?: false } & Partial<Connections> = {},
  ): Promise<RunningWorker> {
    const { kafka, redis, codec, ...runOpts } = opts;
    return runWorker({
      ...runOpts,
      worker: definition,
      decoder,
      kafka: kafka ?? this.clients.kafka,
      redis: redis ?? this.clients.redis,
      codec: codec ?? this.clients.codec,
      namespace: this.ns,
      rules,
      log: this.log,
      sessionTimeoutMs: 6000,
      ...(this.env.MEMBERFLOW_TICK_KEY !== undefined ? { tickKey: this.env.MEMBERFLOW_TICK_KEY } : {}),
    });
  }

  /** Runs a worker as a separate OS process (the CLI), so a test can SIGKILL it. */
  spawnWorker(name: string, args: string[] = [], extraEnv: Record<string, string> = {}): WorkerProcess {
    const child = spawn(process.execPath, ['bin/memberflow.js', 'run', name, ...args], {
      cwd: repoRoot,
      env: { ...process.env, ...this.envVars(), ...extraEnv },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    const worker = Object.assign(child, { stderrText: () => stderr });
    child.stderr.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
      if (process.env.TEST_CHILD_LOGS) process.stderr.write(d);
    });
    child.on('exit', (code, signal) => {
      this.children.delete(child);
      if (code !== 0 && signal === null) process.stderr.write(`[worker ${name}] exited ${code}:\n${stderr}\n`);
    });
    this.children.add(child);
    return worker;
  }

  envVars(): Record<string, string> {
    return {
      KAFKA_BROKERS: this.env.KAFKA_BROKERS.join(','),
      SCHEMA_REGISTRY_URL: this.env.SCHEMA_REGISTRY_URL,
      REDIS_URL: this.env.REDIS_URL,
      // Empty means the one node of REDIS_URL: a child must not inherit a cluster from the shell.
      REDIS_CLUSTER_NODES: this.env.REDIS_CLUSTER_NODES?.join(',') ?? '',
      MEMBERFLOW_NAMESPACE: this.ns,
      MEMBERFLOW_TOPIC_PARTITIONS: String(this.env.MEMBERFLOW_TOPIC_PARTITIONS),
      LOG_LEVEL: this.env.LOG_LEVEL,
      MEMBERFLOW_TICK_KEY: this.env.MEMBERFLOW_TICK_KEY ?? '',
      // A SIGKILLed worker never leaves its group: let the broker notice quickly.
      KAFKA_SESSION_TIMEOUT_MS: '6000',
    };
  }

  /** A group's committed offsets on a topic; a coordinator still loading or moving (a restart, a failover) is asked again. */
  private async groupOffsets(groupId: string, topic: string): Promise<{ partition: number; offset: string }[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        const [committed] = await this.admin.fetchOffsets({ groupId, topics: [topic] });
        return committed?.partitions ?? [];
      } catch (err) {
        if (!isTransientClusterError(err) || attempt >= 20) throw err;
        await sleep(restartDelayMs(attempt));
      }
    }
  }

  /** Committed offsets of a worker's group minus topic ends: 0 when it has consumed everything. */
  async lag(worker: string, logical: LogicalTopic, groupId = `${this.ns}.${worker}`): Promise<number> {
    const topic = this.topic(logical);
    const ends = await this.topicEnds(topic);
    const committed = { partitions: await this.groupOffsets(groupId, topic) };
    let lag = 0n;
    for (const e of ends) {
      const c = BigInt(committed.partitions.find((p) => p.partition === e.partition)?.offset ?? '-1');
      lag += BigInt(e.high) - (c < 0n ? BigInt(e.low) : c);
    }
    return Number(lag);
  }

  /** Sum of a worker group's committed offsets on a topic: grows whenever it commits a batch. */
  async committedTotal(worker: string, logical: LogicalTopic, groupId = `${this.ns}.${worker}`): Promise<number> {
    return (await this.groupOffsets(groupId, this.topic(logical))).reduce(
      (n, p) => n + Math.max(0, Number(p.offset)),
      0,
    );
  }

  async waitForLag0(
    worker: string,
    logical: LogicalTopic,
    timeoutMs = 120_000,
    groupId = `${this.ns}.${worker}`,
  ): Promise<void> {
    await waitFor(
      async () => (await this.lag(worker, logical, groupId)) === 0,
      timeoutMs,
      `${groupId} to consume ${logical}`,
    );
  }

  async close(): Promise<void> {
    for (const c of this.children) c.kill('SIGKILL');
    await this.producer.disconnect();
    try {
      const mine = logicalTopics.map((t) => this.topic(t));
      await this.admin.deleteTopics({ topics: mine, timeout: 30_000 });
    } catch (err) {
      this.log.warn({ err }, 'could not delete test topics');
    }
    await this.admin.disconnect();
    await deleteKeys(this.clients.redis, namespacePattern(this.ns));
    await this.clients.close();
  }
}

function withDatabase(url: string, db: number): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

/** Every key matching a pattern, on every node (KEYS asks one node only). */
export async function allKeys(redis: RedisClient, pattern: string): Promise<string[]> {
  const found: string[] = [];
  for await (const keys of scanKeys(redis, pattern)) found.push(...keys);
  return found;
}

/** A client of the stack's Redis: the cluster in the `cluster` project, else the one node. */
export function stackRedis(): RedisClient {
  const stack = inject('stack');
  return connectRedis(
    stack.REDIS_CLUSTER_NODES ? { clusterNodes: stack.REDIS_CLUSTER_NODES.split(',') } : { url: stack.REDIS_URL },
  );
}

/** A TCP port nothing listens on now, for a process under test to serve on. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls until `check` holds; fails with what it was waiting for. */
export async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(200);
  }
}

/**
 * Waits for a spawned worker to exit. A worker still running after `timeoutMs` is SIGKILLed
 * and the wait fails with the tail of its stderr, so a hang shows where it was, not just a test timeout.
 */
export async function exitOf(
  child: WorkerProcess,
  timeoutMs: number,
  what: string,
): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return { code: child.exitCode, signal: child.signalCode };
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    child.once('exit', (code, signal) => r({ code, signal })),
  );
  try {
    return await withTimeout(exited, timeoutMs, `waiting for ${what}`);
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`${(err as Error).message}; the worker's stderr ended with:\n${child.stderrText()}`, {
      cause: err,
    });
  }
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms ${what}`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
