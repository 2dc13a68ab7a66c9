import { connectClients } from '../../shared/clients.js';
import { applyAcls, type Principals } from '../../shared/kafka/acls.js';
import type { CommandContext } from '../context.js';

/** Applies memberflow's ACLs for the namespace (shared/kafka/acls.ts), as the principal of KAFKA_SASL_USERNAME. */
export async function aclsCommand(ctx: CommandContext, principals: Principals): Promise<number> {
  const clients = connectClients(ctx.env, ctx.log, 'memberflow-acls');
  const admin = clients.kafka.admin();
  try {
    await admin.connect();
    return await applyAcls(admin, ctx.env.MEMBERFLOW_NAMESPACE, principals);
  } finally {
    await admin.disconnect();
    await clients.close();
  }
}
