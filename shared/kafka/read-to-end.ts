import { randomUUID } from 'node:crypto';
import type { Kafka, KafkaMessage } from 'kafkajs';

/**
 * Reads every record of `topic` below each partition's end as it is now (the last stable offset:
 * committed transactions only), in partition order, with a throwaway consumer group, and
 * resolves once every partition is read.
 *
 * The end is reached by position, not by message: memberflow publishes in transactions, so a
 * partition's last offset is usually a commit marker, which no consumer ever receives; aborted
 * records are skipped the same way. A batch's `lastOffset()` counts them, and a fetch of nothing
 * but markers still ends a batch process (kafkajs' END_BATCH_PROCESS with batchSize 0).
 */
export async function readToEnd(
  kafka: Kafka,
  topic: string,
  groupPrefix: string,
  onMessage: (partition: number, message: KafkaMessage) => Promise<void> | void,
  opts: { timeoutMs?: number } = {},
): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  let ends: Map<number, bigint>;
  try {
    if (!(await admin.listTopics()).includes(topic)) return;
    ends = new Map(
      (await admin.fetchTopicOffsets(topic))
        .filter((e) => BigInt(e.high) > BigInt(e.low))
        .map((e) => [e.partition, BigInt(e.high)]),
    );
  } finally {
    await admin.disconnect();
  }
  if (ends.size === 0) return;
  const consumer = kafka.consumer({ groupId: `${groupPrefix}-${randomUUID()}` });
  let timer: NodeJS.Timeout | undefined;
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timeoutMs = opts.timeoutMs ?? 300_000;
      timer = setTimeout(
        () => reject(new Error(`reading ${topic} to its end took over ${timeoutMs / 1000} s`)),
        timeoutMs,
      );
      const reached = (partition: number, lastOffset: string | null) => {
        const end = ends.get(partition);
        if (end !== undefined && lastOffset !== null && BigInt(lastOffset) + 1n >= end) ends.delete(partition);
        if (ends.size === 0) resolve();
      };
      consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
        const { partition, batchSize, lastOffset } = payload as {
          partition: number;
          batchSize: number;
          lastOffset: string | null;
        };
        if (batchSize === 0) reached(partition, lastOffset);
      });
      consumer
        .run({
          eachBatch: async ({ batch }) => {
            const end = ends.get(batch.partition);
            if (end === undefined) return;
            for (const m of batch.messages) {
              if (BigInt(m.offset) >= end) break;
              await onMessage(batch.partition, m);
            }
            reached(batch.partition, batch.lastOffset());
          },
        })
        .catch(reject);
    });
  } finally {
    clearTimeout(timer);
    await consumer.disconnect();
  }
}
