import { randomUUID } from 'node:crypto';
import { connectClients } from '../../shared/clients.js';
import { logicalTopics, physicalTopic, type LogicalTopic } from '../../shared/contracts/topics.js';
import { isConfluentFramed } from '../../shared/registry/codec.js';
import type { CommandContext } from '../context.js';

export interface TailOptions {
  fromBeginning?: boolean;
  max?: number;
  /** Print the envelope (topic, partition, offset, key, timestamp, value) instead of the value alone. */
  json?: boolean;
  /** Exit when nothing arrives for this long (ms). */
  idleMs?: number;
}

/** Reads a topic, decodes each value through the registry (or as JSON) and prints one JSON object per line. */
export async function tailCommand(
  ctx: CommandContext,
  topicName: string,
  opts: TailOptions,
  write = (s: string) => process.stdout.write(s),
): Promise<number> {
  const logical = (logicalTopics as readonly string[]).includes(topicName) ? (topicName as LogicalTopic) : undefined;
  const topic = logical ? physicalTopic(ctx.env.MEMBERFLOW_NAMESPACE, logical) : topicName;
  const clients = connectClients(ctx.env, ctx.log, 'memberflow-tail');
  // A throwaway group: tail never moves a worker's offsets.
  const consumer = clients.kafka.consumer({ groupId: `${ctx.env.MEMBERFLOW_NAMESPACE}.tail-${randomUUID()}` });
  let printed = 0;
  let lastSeen = Date.now();
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: opts.fromBeginning ?? false });
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      if (opts.max !== undefined && printed >= opts.max) return;
      lastSeen = Date.now();
      const value = message.value === null ? null : await decodeValue(clients.codec, message.value);
      const key = message.key?.toString('utf8') ?? null;
      const line = opts.json
        ? { topic, partition, offset: message.offset, timestamp: Number(message.timestamp), key, value }
        : value;
      write(`${JSON.stringify(line, bufferAsBase64)}\n`);
      printed++;
      if (opts.max !== undefined && printed >= opts.max) done();
    },
  });
  const idleTimer = opts.idleMs
    ? setInterval(() => {
        if (Date.now() - lastSeen >= (opts.idleMs ?? 0)) done();
      }, 200)
    : undefined;
  const onSignal = () => done();
  process.once('SIGINT', onSignal);
  await finished;
  if (idleTimer) clearInterval(idleTimer);
  process.off('SIGINT', onSignal);
  await consumer.disconnect();
  await clients.close();
  return printed;
}

async function decodeValue(codec: ReturnType<typeof connectClients>['codec'], value: Buffer): Promise<unknown> {
  if (isConfluentFramed(value)) {
    try {
      return await codec.decode(value);
    } catch (err) {
      return { undecodable: (err as Error).message, base64: value.toString('base64') };
    }
  }
  try {
    return JSON.parse(value.toString('utf8'));
  } catch {
    return { undecodable: 'neither Avro nor JSON', base64: value.toString('base64') };
  }
}

function bufferAsBase64(_key: string, v: unknown): unknown {
  if (
    v &&
    typeof v === 'object' &&
    (v as { type?: unknown }).type === 'Buffer' &&
    Array.isArray((v as { data?: unknown }).data)
  ) {
    return Buffer.from((v as { data: number[] }).data).toString('base64');
  }
  return v;
}
