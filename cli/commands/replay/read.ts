import { randomUUID } from 'node:crypto';
import { eventIdHeader } from '../../../shared/kafka/client.js';
import { tickHeader } from '../../../shared/kernel/ticks.js';
import type { ReplayContext } from './shared.js';

export interface TopicRecord {
  id: string;
  key: string | null;
  partition: number;
  offset: string;
  timestamp: number;
  value: unknown;
}

/**
 * Every record of a topic up to its end as it is now, decoded through the registry (ticks
 * skipped). A partition whose last offsets are transaction markers never delivers its last
 * offset, so a partition also counts as read after a quiet second.
 */
export async function readTopicRecords(rc: ReplayContext, topic: string, opts: { raw?: boolean } = {}): Promise<TopicRecord[]> {
  const existing = new Set(await rc.admin.listTopics());
  if (!existing.has(topic)) return [];
  const remaining = new Map((await rc.admin.fetchTopicOffsets(topic)).filter((e) => BigInt(e.high) > BigInt(e.low)).map((e) => [e.partition, BigInt(e.high) - 1n]));
  const out: TopicRecord[] = [];
  if (remaining.size === 0) return out;
  const consumer = rc.clients.kafka.consumer({ groupId: `${rc.liveNamespace}.replay-read-${randomUUID()}` });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    // The quiet-second rule starts with the first message: joining the group takes longer than that.
    let lastMessageAt = Number.POSITIVE_INFINITY;
    const firstDeadline = Date.now() + 30_000;
    await new Promise<void>((resolve, reject) => {
      const idle = setInterval(() => {
        if (Date.now() - lastMessageAt > 1000 || (lastMessageAt === Number.POSITIVE_INFINITY && Date.now() > firstDeadline)) {
          clearInterval(idle);
          resolve();
        }
      }, 250);
      consumer
        .run({
          eachMessage: async ({ partition, message }) => {
            lastMessageAt = Date.now();
            const last = remaining.get(partition);
            if (last === undefined || BigInt(message.offset) > last) return;
            if (!message.headers?.[tickHeader] && message.value) {
              out.push({
                id: message.headers?.[eventIdHeader]?.toString() ?? `${partition}:${message.offset}`,
                key: message.key?.toString('utf8') ?? null,
                partition,
                offset: message.offset,
                timestamp: Number(message.timestamp),
                value: opts.raw ? message.value : await rc.clients.codec.decode(message.value),
              });
            }
            if (BigInt(message.offset) >= last) remaining.delete(partition);
            if (remaining.size === 0) {
              clearInterval(idle);
              resolve();
            }
          },
        })
        .catch(reject);
    });
    return out;
  } finally {
    await consumer.disconnect();
  }
}
