/** What every replay command needs: clients, the worker's entry, the namespaces, and an admin client. */
import type { Admin } from 'kafkajs';
import { workers, type WorkerEntry } from '../../../services/index.js';
import { connectClients, type Clients } from '../../../shared/clients.js';
import { ConfigError } from '../../../shared/config/env.js';
import { loadRules, type Rules } from '../../../shared/config/rules.js';
import type { CommandContext } from '../../context.js';

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
