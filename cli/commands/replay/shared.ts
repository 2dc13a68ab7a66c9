/** What every replay command needs: clients, the worker's entry, the namespaces, and an admin client. */
import type { Admin } from 'kafkajs';
import { workers, type WorkerEntry } from '../../../services/index.js';
import { connectClients, type Clients } from '../../../shared/clients.js';
import { ConfigError } from '../../../shared/config/env.js';
import { loadRules, type Rules } from '../../../shared/config/rules.js';
import { rulesOf, type LivePointer } from '../../../shared/redis/live-pointer.js';
import { runWorker } from '../../../shared/runtime/run-worker.js';
import type { WorkerTotals } from '../../../shared/runtime/worker-options.js';
import { workerSettings, type CommandContext } from '../../context.js';

export interface ReplayContext {
  ctx: CommandContext;
  clients: Clients;
  admin: Admin;
  liveNamespace: string;
  close(): Promise<void>;
}

export async function openReplayContext(ctx: CommandContext, clientId: string): Promise<ReplayContext> {
  const clients = connectClients(ctx.env, ctx.log, clientId);
  const admin = clients.kafka.admin();
  await admin.connect();
  return {
    ctx,
    clients,
    admin,
    liveNamespace: ctx.env.MEMBERFLOW_NAMESPACE,
    async close() {
      await admin.disconnect();
      await clients.close();
    },
  };
}

export function workerEntry(name: string): WorkerEntry {
  const entry = workers[name];
  if (!entry) throw new ConfigError(`unknown worker ${name}; known: ${Object.keys(workers).join(', ')}`);
  return entry;
}

export function rulesFrom(file: string | undefined, live: Rules): Rules {
  return file === undefined ? live : loadRules(file);
}

export class ReplayRefused extends ConfigError {
  override name = 'ReplayRefused';
}

/**
 * Runs a worker on a live state namespace (its state, group and the pointer's rules, fenced at
 * `epoch`) until every input partition reaches its end in `stopAt`: a rebuild, or a promote
 * finishing the old generation. Outputs go to the live topics.
 */
export async function runLiveStateToEnds(
  rc: ReplayContext,
  worker: string,
  pointer: LivePointer,
  epoch: number,
  stopAt: ReadonlyMap<string, string>,
  extra: {
    publishFrom?: ReadonlyMap<string, string>;
    progress?: (totals: WorkerTotals) => void;
    deadline?: { ms: number; error: () => Error };
  } = {},
): Promise<WorkerTotals> {
  const entry = workerEntry(worker);
  const rules = rulesOf(pointer, rc.ctx.rules);
  await rc.clients.codec.registerAll();
  const w = await runWorker({
    worker: entry.definition,
    decoder: entry.decoder(rc.clients.codec, () => rules),
    kafka: rc.clients.kafka,
    redis: rc.clients.redis,
    codec: rc.clients.codec,
    namespace: rc.liveNamespace,
    stateNamespace: pointer.namespace,
    fence: { topicNamespace: rc.liveNamespace, worker, epoch },
    stopAt,
    ...(extra.publishFrom ? { publishFrom: extra.publishFrom } : {}),
    rules,
    log: rc.ctx.log,
    sessionTimeoutMs: rc.ctx.env.KAFKA_SESSION_TIMEOUT_MS,
    maxBytesPerPartition: rc.ctx.env.KAFKA_MAX_BYTES_PER_PARTITION,
    ...workerSettings(rc.ctx.env),
  });
  const progress = extra.progress;
  const timer = progress ? setInterval(() => progress(w.totals), 2000) : null;
  const deadline = extra.deadline;
  let expiry: NodeJS.Timeout | undefined;
  const expired = deadline
    ? new Promise<never>((_, reject) => (expiry = setTimeout(() => reject(deadline.error()), deadline.ms)))
    : new Promise<never>(() => undefined);
  try {
    await Promise.race([w.reachedEnd, w.failed.then((e) => Promise.reject(e)), expired]);
  } finally {
    if (timer) clearInterval(timer);
    clearTimeout(expiry);
    await w.stop();
  }
  return w.totals;
}
