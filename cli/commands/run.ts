import { writeFileSync } from 'node:fs';
import { workers, workerNames } from '../../services/index.js';
import { connectClients, registryAccessOf } from '../../shared/clients.js';
import type { Metrics } from '../../shared/observability/metrics.js';
import { startOperations, type Operations } from '../../shared/observability/operations.js';
import { runWorker } from '../../shared/runtime/run-worker.js';
import type { RunningWorker } from '../../shared/runtime/worker-options.js';
import { consumerGroup, physicalTopic } from '../../shared/contracts/topics.js';
import { workerSettings, type CommandContext } from '../context.js';

export interface RunOptions {
  /** Stop once every input partition is caught up and nothing arrived for this long (ms). */
  exitWhenIdleMs?: number;
  /** The operations port, instead of MEMBERFLOW_METRICS_PORT (0: any free port). */
  operationsPort?: number;
  /** Called as the workers stop, with the operations port and its metrics (when the port is open). */
  onStopping?: (operations: { port: number; metrics: Metrics }) => void;
}

export function resolveWorkers(names: string[]): string[] {
  const all = workerNames();
  const chosen = names.includes('all') ? all : names;
  const unknown = chosen.filter((n) => !all.includes(n));
  if (unknown.length > 0) throw new Error(`unknown worker(s) ${unknown.join(', ')}; available: ${all.join(', ')}, all`);
  return chosen;
}

/** Runs workers in this process until SIGINT/SIGTERM (or idle, when asked). */
export async function runCommand(
  ctx: CommandContext,
  names: string[],
  opts: RunOptions = {},
): Promise<RunningWorker[]> {
  const chosen = resolveWorkers(names);
  // A signal while starting is handled once started (the default would kill the process mid-start); a start
  // that hangs (Kafka unreachable) still ends within MEMBERFLOW_SHUTDOWN_TIMEOUT_MS.
  let signalWhileStarting = null as string | null; // set by the signal handlers: not narrowed to null
  const early = (signal: string) => () => {
    signalWhileStarting ??= signal;
    setTimeout(() => process.exit(1), ctx.env.MEMBERFLOW_SHUTDOWN_TIMEOUT_MS).unref();
  };
  const earlyInt = early('SIGINT');
  const earlyTerm = early('SIGTERM');
  process.once('SIGINT', earlyInt);
  process.once('SIGTERM', earlyTerm);
  const clients = connectClients(ctx.env, ctx.log, `memberflow-${chosen.join('+')}`);
  await clients.codec.registerAll();
  const namespace = ctx.env.MEMBERFLOW_NAMESPACE;
  // MEMBERFLOW_METRICS_PORT: /metrics, /healthz and /readyz for the workers of this process.
  const operationsPort = opts.operationsPort ?? ctx.env.MEMBERFLOW_METRICS_PORT;
  const operations: Operations | null =
    operationsPort === undefined
      ? null
      : await startOperations({
          port: operationsPort,
          host: ctx.env.MEMBERFLOW_METRICS_HOST,
          stallMs: ctx.env.MEMBERFLOW_STALL_MS,
          intervalMs: ctx.env.MEMBERFLOW_HEALTH_INTERVAL_MS,
          kafka: clients.kafka,
          redis: clients.redis,
          registry: registryAccessOf(ctx.env),
          log: ctx.log,
        });
  const running: RunningWorker[] = [];
  for (const name of chosen) {
    const entry = workers[name]!;
    const index = running.length;
    const observer = operations?.observe({
      name,
      inputs: entry.definition.inputs.map((t) => physicalTopic(namespace, t)),
      // The group of the generation running now (a promote moves it); the live namespace's until the worker runs.
      group: () => running[index]?.group() ?? consumerGroup(namespace, name),
    });
    running.push(
      await runWorker({
        ...(observer ? { observer } : {}),
        worker: entry.definition,
        decoder: entry.decoder(clients.codec, () => ctx.rules),
        kafka: clients.kafka,
        redis: clients.redis,
        codec: clients.codec,
        namespace: ctx.env.MEMBERFLOW_NAMESPACE,
        followPointer: true,
        rules: ctx.rules,
        log: ctx.log,
        sessionTimeoutMs: ctx.env.KAFKA_SESSION_TIMEOUT_MS,
        ...workerSettings(ctx.env),
        maxBytesPerPartition: ctx.env.KAFKA_MAX_BYTES_PER_PARTITION,
        concurrency: ctx.env.KAFKA_PARTITIONS_CONCURRENTLY,
        ...(ctx.env.KAFKA_FETCH_MIN_BYTES !== undefined ? { fetchMinBytes: ctx.env.KAFKA_FETCH_MIN_BYTES } : {}),
        ...(ctx.env.KAFKA_FETCH_MAX_WAIT_MS !== undefined ? { fetchMaxWaitMs: ctx.env.KAFKA_FETCH_MAX_WAIT_MS } : {}),
      }),
    );
  }
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    for (const w of running) await w.stop();
    if (operations && opts.onStopping) opts.onStopping({ port: operations.port, metrics: operations.metrics });
    await operations?.close();
    await clients.close();
    writeTotals(ctx.env.MEMBERFLOW_TOTALS_FILE, chosen, running);
  };
  // SIGTERM/SIGINT: the batches under way finish (or, before their state write, give up) and every pending
  // commit is awaited; past MEMBERFLOW_SHUTDOWN_TIMEOUT_MS the process exits anyway, non-zero.
  const shutdown = (signal: string) => {
    ctx.log.info(
      { signal, timeoutMs: ctx.env.MEMBERFLOW_SHUTDOWN_TIMEOUT_MS },
      'stopping: finishing the batches under way',
    );
    const started = Date.now();
    setTimeout(() => {
      ctx.log.error(
        { timeoutMs: ctx.env.MEMBERFLOW_SHUTDOWN_TIMEOUT_MS },
        'shutdown took too long: exiting without waiting further',
      );
      process.exit(1);
    }, ctx.env.MEMBERFLOW_SHUTDOWN_TIMEOUT_MS).unref();
    void stop().then(
      () => {
        ctx.log.info({ ms: Date.now() - started }, 'stopped cleanly');
        process.exit(0);
      },
      (err: unknown) => {
        ctx.log.error({ err }, 'stopping failed');
        process.exit(1);
      },
    );
  };
  for (const w of running) {
    void w.failed.then(async (err) => {
      ctx.log.fatal({ err }, 'a worker stopped for good; exiting so a supervisor can restart the process');
      await stop().catch(() => undefined);
      process.exit(1);
    });
  }
  process.off('SIGINT', earlyInt);
  process.off('SIGTERM', earlyTerm);
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  if (signalWhileStarting !== null) shutdown(signalWhileStarting);
  if (opts.exitWhenIdleMs !== undefined) {
    await waitUntilCaughtUp(ctx, clients.kafka, chosen, running, opts.exitWhenIdleMs);
    await stop();
  }
  return running;
}

async function waitUntilCaughtUp(
  ctx: CommandContext,
  kafka: ReturnType<typeof connectClients>['kafka'],
  names: string[],
  running: RunningWorker[],
  idleMs: number,
): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    let lastRecords = -1;
    let quietSince = Date.now();
    for (;;) {
      await new Promise((r) => setTimeout(r, 500));
      const records = running.reduce((n, w) => n + w.totals.records, 0);
      if (records !== lastRecords) {
        lastRecords = records;
        quietSince = Date.now();
        continue;
      }
      if (Date.now() - quietSince < idleMs) continue;
      let lag = 0;
      for (const [i, name] of names.entries()) {
        for (const topic of workers[name]!.definition.inputs) {
          const physical = physicalTopic(ctx.env.MEMBERFLOW_NAMESPACE, topic);
          const ends = await admin.fetchTopicOffsets(physical);
          const [committed] = await admin.fetchOffsets({ groupId: running[i]!.group(), topics: [physical] });
          for (const end of ends) {
            const c = committed?.partitions.find((p) => p.partition === end.partition)?.offset ?? '-1';
            const start = BigInt(end.low);
            const pos = BigInt(c) < 0n ? start : BigInt(c);
            lag += Number(BigInt(end.high) - pos);
          }
        }
      }
      if (lag === 0) return;
    }
  } finally {
    await admin.disconnect();
  }
}

/**
 * With MEMBERFLOW_TOTALS_FILE set, the process writes each worker's totals there as JSON when it
 * stops (records, outcomes, first and last batch times): what the bench reads for its rates.
 */
function writeTotals(file: string | undefined, names: string[], running: RunningWorker[]): void {
  if (!file) return;
  writeFileSync(file, JSON.stringify(Object.fromEntries(names.map((n, i) => [n, running[i]!.totals]))));
}
