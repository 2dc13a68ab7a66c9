import { randomUUID } from 'node:crypto';
import { connectClients } from '../../shared/clients.js';
import { eventIdHeader } from '../../shared/kafka/client.js';
import { physicalTopic, type LogicalTopic } from '../../shared/kafka/topics.js';
import { tickHeader } from '../../shared/kernel/ticks.js';
import type { CommandContext } from '../context.js';

/**
 * Every Avro record of a topic up to its current end, decoded, first copy per event id
 * (a crash may re-publish an event; the id says it is the same one). Ticks are skipped.
 */
export async function readTopicToEnd(ctx: CommandContext, logical: LogicalTopic): Promise<Record<string, unknown>[]> {
  const clients = connectClients(ctx.env, ctx.log, 'memberflow-read');
  const topic = physicalTopic(ctx.env.MEMBERFLOW_NAMESPACE, logical);
  const admin = clients.kafka.admin();
  const consumer = clients.kafka.consumer({ groupId: `${ctx.env.MEMBERFLOW_NAMESPACE}.read-${randomUUID()}` });
  const out: Record<string, unknown>[] = [];
  try {
    await admin.connect();
    const remaining = new Map((await admin.fetchTopicOffsets(topic)).filter((e) => BigInt(e.high) > BigInt(e.low)).map((e) => [e.partition, BigInt(e.high) - 1n]));
    if (remaining.size === 0) return out;
    const seen = new Set<string>();
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve) => {
      void consumer.run({
        eachMessage: async ({ partition, message }) => {
          const last = remaining.get(partition);
          if (last === undefined || BigInt(message.offset) > last) return;
          const id = message.headers?.[eventIdHeader]?.toString() ?? '';
          if (!message.headers?.[tickHeader] && message.value && !seen.has(id)) {
            seen.add(id);
            out.push((await clients.codec.decode(message.value)) as Record<string, unknown>);
          }
          if (BigInt(message.offset) >= last) remaining.delete(partition);
          if (remaining.size === 0) resolve();
        },
      });
    });
    return out;
  } finally {
    await consumer.disconnect();
    await admin.disconnect();
    await clients.close();
  }
}
