import type { Admin, Kafka } from 'kafkajs';
import type { RedisClient } from '../redis/client.js';
import { registryRequest, type RegistryAccess } from '../registry/access.js';
import type { Logger } from '../log.js';
import type { Metrics } from './metrics.js';
import {
  nextProgress,
  readiness,
  type HealthFacts,
  type PartitionProgress,
  type Readiness,
  type WorkerHealthFacts,
} from './readiness.js';
import type { WorkerObserver } from '../runtime/observer.js';

/** A worker this process runs, as the watcher needs it. */
export interface WatchedWorker {
  name: string;
  /** Its consumer group now (a promote changes it). */
  group(): string;
  /** Its physical input topics. */
  inputs: readonly string[];
}

export interface HealthWatchOptions {
  kafka: Kafka;
  redis: RedisClient;
  registry: RegistryAccess;
  metrics: Metrics;
  log: Logger;
  /** MEMBERFLOW_STALL_MS: lag and no progress on an assigned partition for this long is not ready. */
  stallMs: number;
  /** How often lag and the dependencies are checked. */
  intervalMs: number;
}

interface WorkerWatch {
  worker: WatchedWorker;
  joined: boolean;
  failing: boolean;
  assignment: ReadonlyMap<string, readonly number[]>;
  progress: Map<string, { position: string; lastProgressAt: number; lag: number }>;
}

/**
 * Gathers what readiness and the lag gauges need: each worker's assignment (from its runtime),
 * the group's committed positions and the partitions' ends (from Kafka, every interval), and
 * whether Kafka, Redis and the registry answer. A check that fails marks its dependency down
 * until the next one succeeds; it never throws.
 */
export class HealthWatch {
  private readonly workers = new Map<string, WorkerWatch>();
  private deps = { kafka: false, redis: false, registry: false };
  private admin: Admin | null = null;
  private timer: NodeJS.Timeout | null = null;
  private checking: Promise<void> | null = null;

  constructor(private readonly o: HealthWatchOptions) {}

  /** The observer to give the worker's runtime. */
  observe(worker: WatchedWorker): WorkerObserver {
    const w: WorkerWatch = { worker, joined: false, failing: false, assignment: new Map(), progress: new Map() };
    this.workers.set(worker.name, w);
    return this.o.metrics.observerFor(
      worker.name,
      (assignment) => {
        w.joined = true;
        w.failing = false;
        w.assignment = assignment;
      },
      (failing) => (w.failing = failing),
    );
  }

  start(): void {
    const tick = () => {
      this.checking ??= this.check().finally(() => (this.checking = null));
    };
    tick();
    this.timer = setInterval(tick, this.o.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.checking;
    await this.admin?.disconnect().catch(() => undefined);
    this.admin = null;
  }

  /** Readiness from the latest facts (and the metric that mirrors it). */
  readiness(now = Date.now()): Readiness {
    const facts: HealthFacts = {
      now,
      stallMs: this.o.stallMs,
      ...this.deps,
      workers: [...this.workers.values()].map((w): WorkerHealthFacts => ({
        worker: w.worker.name,
        joined: w.joined,
        consumerFailing: w.failing,
        partitions: [...w.progress.entries()].map(([key, p]): PartitionProgress => {
          const at = key.lastIndexOf('#');
          return {
            topic: key.slice(0, at),
            partition: Number(key.slice(at + 1)),
            lag: p.lag,
            lastProgressAt: p.lastProgressAt,
          };
        }),
      })),
    };
    const r = readiness(facts);
    this.o.metrics.setReady(r.ready);
    return r;
  }

  /** One round of checks; exposed for tests that cannot wait an interval. */
  async check(): Promise<void> {
    const [kafka, redis, registry] = await Promise.all([this.checkKafka(), this.checkRedis(), this.checkRegistry()]);
    this.deps = { kafka, redis, registry };
    this.readiness();
  }

  private async checkKafka(): Promise<boolean> {
    try {
      if (!this.admin) {
        const admin = this.o.kafka.admin();
        await admin.connect();
        this.admin = admin;
      }
      const now = Date.now();
      for (const w of this.workers.values()) await this.updateLag(this.admin, w, now);
      return true;
    } catch (err) {
      this.o.log.debug({ err }, 'health: Kafka check failed');
      await this.admin?.disconnect().catch(() => undefined);
      this.admin = null;
      return false;
    }
  }

  private async updateLag(admin: Admin, w: WorkerWatch, now: number): Promise<void> {
    const keep = new Set<string>();
    const topics = [...w.assignment.keys()].filter((t) => (w.assignment.get(t) ?? []).length > 0);
    if (topics.length > 0) {
      const committed = await admin.fetchOffsets({ groupId: w.worker.group(), topics });
      for (const topic of topics) {
        const ends = await admin.fetchTopicOffsets(topic);
        for (const partition of w.assignment.get(topic) ?? []) {
          const end = ends.find((e) => e.partition === partition);
          if (!end) continue;
          const c =
            committed.find((t) => t.topic === topic)?.partitions.find((p) => p.partition === partition)?.offset ?? '-1';
          const position = BigInt(c) < 0n ? BigInt(end.low) : BigInt(c);
          const lag = Math.max(0, Number(BigInt(end.high) - position));
          const key = `${topic}#${partition}`;
          keep.add(key);
          w.progress.set(key, { ...nextProgress(w.progress.get(key), position.toString(), lag, now), lag });
          this.o.metrics.setLag(w.worker.name, topic, partition, lag);
        }
      }
    }
    for (const key of [...w.progress.keys()]) if (!keep.has(key)) w.progress.delete(key);
    this.o.metrics.clearLag(w.worker.name, keep);
  }

  private async checkRedis(): Promise<boolean> {
    try {
      await withTimeout(this.o.redis.ping(), 5_000);
      return true;
    } catch {
      return false;
    }
  }

  private async checkRegistry(): Promise<boolean> {
    try {
      const { status } = await withTimeout(registryRequest(this.o.registry, 'GET', '/subjects'), 5_000);
      return status === 200;
    } catch {
      return false;
    }
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('timed out')), ms))),
  ]).finally(() => clearTimeout(timer));
}
