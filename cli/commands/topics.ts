import { connectClients } from '../../shared/clients.js';
import { ensureTopics } from '../../shared/kafka/client.js';
import type { CommandContext } from '../context.js';

/** Creates the namespace's topics (idempotent) and registers their schemas. */
export async function createTopics(ctx: CommandContext, opts: { quiet?: boolean } = {}): Promise<void> {
  const clients = connectClients(ctx.env, ctx.log, 'memberflow-topics');
  const admin = clients.kafka.admin();
  try {
    await admin.connect();
    const result = await ensureTopics(admin, ctx.env.MEMBERFLOW_NAMESPACE, ctx.env.MEMBERFLOW_TOPIC_PARTITIONS);
    const ids = await clients.codec.registerAll();
    if (!opts.quiet) {
      for (const t of result.created) process.stdout.write(`created  ${t}\n`);
      for (const t of result.existing)
        process.stdout.write(`${result.altered.includes(t) ? 'altered' : 'exists '}  ${t}\n`);
      for (const [topic, id] of ids)
        process.stdout.write(`schema   ${ctx.env.MEMBERFLOW_NAMESPACE}.${topic}-value id=${id}\n`);
    }
  } finally {
    await admin.disconnect();
    await clients.close();
  }
}
