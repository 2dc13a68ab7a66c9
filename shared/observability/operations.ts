import type { Kafka } from 'kafkajs';
import type { Logger } from '../log.js';
import type { RedisClient } from '../redis/client.js';
import type { RegistryAccess } from '../registry/access.js';
import { Metrics } from './metrics.js';
import { serveOperations } from './server.js';
import { HealthWatch, type WatchedWorker } from './watch.js';
import type { WorkerObserver } from '../runtime/observer.js';

export interface OperationsOptions {
  port: number;
  host: string;
  stallMs: number;
  intervalMs: number;
  kafka: Kafka;
  redis: RedisClient;
  registry: RegistryAccess;
  log: Logger;
}

/** A process's metrics, health watch and operations port, started together and closed together. */
export interface Operations {
  port: number;
  metrics: Metrics;
  health: HealthWatch;
  observe(worker: WatchedWorker): WorkerObserver;
  close(): Promise<void>;
}

export async function startOperations(o: OperationsOptions): Promise<Operations> {
  const metrics = new Metrics();
  const health = new HealthWatch({
    kafka: o.kafka,
    redis: o.redis,
    registry: o.registry,
    metrics,
    log: o.log,
    stallMs: o.stallMs,
    intervalMs: o.intervalMs,
  });
  const server = await serveOperations(o.port, o.host, metrics, health);
  health.start();
  o.log.info({ port: server.port, paths: ['/metrics', '/healthz', '/readyz'] }, 'operations port open');
  return {
    port: server.port,
    metrics,
    health,
    observe: (w) => health.observe(w),
    async close() {
      await health.stop();
      await server.close();
    },
  };
}
