import { connectClients } from '../../shared/clients.js';
import { eventIdHeader } from '../../shared/kafka/client.js';
import { readToEnd } from '../../shared/kafka/read-to-end.js';
import { physicalTopic, type LogicalTopic } from '../../shared/contracts/topics.js';
import { tickHeader } from '../../shared/kernel/ticks.js';
import type { CommandContext } from '../context.js';

/**
 * Every Avro record of a topic up to its current end, decoded, first copy per event id
 * (a crash may re-publish an event; the id says it is the same one). Ticks are skipped.
 */
export async function readTopicToEnd(ctx: CommandContext, logical: LogicalTopic): Promise<Record<string, unknown>[]> {
  const clients = connectClients(ctx.env, ctx.log, 'memberflow-read');
  const topic = physicalTopic(ctx.env.MEMBERFLOW_NAMESPACE, logical);
  const out: Record<string, unknown>[] = [];
  try {
    const seen = new Set<string>();
    await readToEnd(clients.kafka, topic, `${ctx.env.MEMBERFLOW_NAMESPACE}.read`, async (_, message) => {
      const id = message.headers?.[eventIdHeader]?.toString() ?? '';
      if (!message.headers?.[tickHeader] && message.value && !seen.has(id)) {
        seen.add(id);
        out.push((await clients.codec.decode(message.value)) as Record<string, unknown>);
      }
    });
    return out;
  } finally {
    await clients.close();
  }
}
