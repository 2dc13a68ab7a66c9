import { eventIdHeader } from '../../../shared/kafka/client.js';
import { readToEnd } from '../../../shared/kafka/read-to-end.js';
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
 * Every record of a topic up to its end as it is now (committed transactions only), decoded
 * through the registry (ticks skipped).
 */
export async function readTopicRecords(
  rc: ReplayContext,
  topic: string,
  opts: { raw?: boolean } = {},
): Promise<TopicRecord[]> {
  const out: TopicRecord[] = [];
  await readToEnd(rc.clients.kafka, topic, `${rc.liveNamespace}.replay-read`, async (partition, message) => {
    if (message.headers?.[tickHeader] || !message.value) return;
    out.push({
      id: message.headers?.[eventIdHeader]?.toString() ?? `${partition}:${message.offset}`,
      key: message.key?.toString('utf8') ?? null,
      partition,
      offset: message.offset,
      timestamp: Number(message.timestamp),
      value: opts.raw ? message.value : await rc.clients.codec.decode(message.value),
    });
  });
  return out;
}
