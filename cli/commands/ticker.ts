import { connectClients } from '../../shared/clients.js';
import { createProducer } from '../../shared/kafka/client.js';
import { physicalTopic } from '../../shared/contracts/topics.js';
import { ConfigError } from '../../shared/config/env.js';
import { signTick, tickSignatureHeader } from '../../shared/kernel/tick-signature.js';
import { tickHeader, tickKey } from '../../shared/kernel/ticks.js';
import type { CommandContext } from '../context.js';

export interface TickerOptions {
  intervalMs: number;
  /** Send one round of ticks and stop. */
  once?: boolean;
  /** The time to put in the ticks (default: now). Lets a backfill or a test move time explicitly. */
  time?: number;
}

/**
 * Writes the passage of time into the log: one tick per partition of
 * activity.events, every interval. The wall clock is read here and only here;
 * workers see time as records, so a replay sees the same time at the same place.
 */
export async function tickerCommand(ctx: CommandContext, opts: TickerOptions): Promise<number> {
  const key = ctx.env.MEMBERFLOW_TICK_KEY;
  if (key === undefined)
    throw new ConfigError(
      'invalid configuration:\n  MEMBERFLOW_TICK_KEY (unset): the ticker signs every tick with it, and workers refuse unsigned ticks on activity.events',
    );
  const clients = connectClients(ctx.env, ctx.log, 'memberflow-ticker');
  const producer = createProducer(clients.kafka);
  const admin = clients.kafka.admin();
  const topic = physicalTopic(ctx.env.MEMBERFLOW_NAMESPACE, 'activity.events');
  let rounds = 0;
  let stopping = false as boolean; // set by the signal handler: not narrowed to false
  const stop = () => {
    stopping = true;
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    await Promise.all([producer.connect(), admin.connect()]);
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    const partitions = meta.topics[0]?.partitions.map((p) => p.partitionId).sort((a, b) => a - b) ?? [];
    if (partitions.length === 0) throw new Error(`topic ${topic} has no partitions; run topics create first`);
    do {
      const time = opts.time ?? Date.now();
      await producer.send({
        topic,
        acks: -1,
        messages: partitions.map((partition) => ({
          key: tickKey,
          partition,
          value: JSON.stringify({ tick: time }),
          headers: { [tickHeader]: String(time), [tickSignatureHeader]: signTick(key, topic, partition, time) },
        })),
      });
      rounds++;
      ctx.log.debug({ time, partitions: partitions.length }, 'ticks sent');
      if (opts.once) break;
      await new Promise((r) => setTimeout(r, opts.intervalMs));
    } while (!stopping);
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await producer.disconnect();
    await admin.disconnect();
    await clients.close();
  }
  return rounds;
}
