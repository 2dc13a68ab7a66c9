import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import type { Producer } from 'kafkajs';
import { connectClients } from '../../shared/clients.js';
import { createProducer } from '../../shared/kafka/client.js';
import { physicalTopic } from '../../shared/contracts/topics.js';
import { onlineRetailEvents, type OnlineRetailStats } from '../../shared/ingest/online-retail.js';
import { cdnowActivityEvents } from '../../shared/ingest/cdnow.js';
import type { AvroCodec } from '../../shared/registry/codec.js';
import type { CommandContext } from '../context.js';

export interface ProduceOptions {
  file: string;
  format: 'jsonl' | 'online-retail' | 'cdnow';
  /** Encode as Confluent-framed Avro instead of sending JSON. */
  avro?: boolean;
  limit?: number;
  fromDate?: string;
  toDate?: string;
}

export interface ProduceReport {
  sent: number;
  topic: string;
  seconds: number;
  mapping?: OnlineRetailStats;
}

const chunk = 500;

/** Sends activity events to `activity.events`, keyed by userId, in file order. */
export async function produceCommand(ctx: CommandContext, opts: ProduceOptions): Promise<ProduceReport> {
  const clients = connectClients(ctx.env, ctx.log, 'memberflow-produce');
  const producer = createProducer(clients.kafka);
  const topic = physicalTopic(ctx.env.MEMBERFLOW_NAMESPACE, 'activity.events');
  const started = Date.now();
  let sent = 0;
  let mapping: OnlineRetailStats | undefined;
  try {
    await producer.connect();
    if (opts.avro) await clients.codec.registerAll(['activity.events']);
    let pending: { key: string | null; value: Buffer }[] = [];
    const flush = async () => {
      if (pending.length === 0) return;
      await producer.send({ topic, acks: -1, messages: pending });
      sent += pending.length;
      pending = [];
    };
    const source =
      opts.format === 'online-retail'
        ? retailMessages(opts, (s) => (mapping = s))
        : opts.format === 'cdnow'
          ? cdnowMessages(opts, ctx.rules.timeZone)
          : jsonlMessages(opts.file);
    for await (const message of source) {
      if (opts.limit !== undefined && sent + pending.length >= opts.limit) break;
      pending.push(opts.avro ? await toAvro(clients.codec, message) : message);
      if (pending.length >= chunk) await flush();
    }
    await flush();
  } finally {
    await producer.disconnect();
    await clients.close();
  }
  const report: ProduceReport = { sent, topic, seconds: (Date.now() - started) / 1000 };
  if (mapping) report.mapping = mapping;
  return report;
}

async function toAvro(codec: AvroCodec, m: { key: string | null; value: Buffer }) {
  return {
    key: m.key,
    value: await codec.encode('activity.events', JSON.parse(m.value.toString('utf8')) as Record<string, unknown>),
  };
}

/** One JSON object per line, sent byte for byte (so broken lines reach the worker and its dead-letter topic). */
async function* jsonlMessages(file: string): AsyncGenerator<{ key: string | null; value: Buffer }> {
  const input = file.endsWith('.gz') ? createReadStream(file).pipe(createGunzip()) : createReadStream(file);
  for await (const line of createInterface({ input, crlfDelay: Infinity })) {
    if (line.trim() === '') continue;
    let key: string | null = null;
    try {
      const parsed = JSON.parse(line) as { userId?: unknown };
      if (typeof parsed.userId === 'string') key = parsed.userId;
    } catch {
      // Not JSON: send it anyway, the worker refuses it with a reason.
    }
    yield { key, value: Buffer.from(line, 'utf8') };
  }
}

async function* retailMessages(opts: ProduceOptions, onStats: (s: OnlineRetailStats) => void) {
  const filter: { limitRows?: number; fromDate?: string; toDate?: string } = {};
  if (opts.fromDate) filter.fromDate = opts.fromDate;
  if (opts.toDate) filter.toDate = opts.toDate;
  const events = onlineRetailEvents(opts.file, filter);
  for await (const e of events) yield { key: e.userId, value: Buffer.from(JSON.stringify(e)) };
  onStats(events.stats());
}

/** CDNOW rows as purchases at local noon in the platform zone, so each lands on its CDNOW date. */
async function* cdnowMessages(opts: ProduceOptions, timeZone: string) {
  const window: { timeZone: string; fromDate?: string; toDate?: string } = { timeZone };
  if (opts.fromDate) window.fromDate = opts.fromDate;
  if (opts.toDate) window.toDate = opts.toDate;
  for await (const e of cdnowActivityEvents(opts.file, window))
    yield { key: e.userId, value: Buffer.from(JSON.stringify(e)) };
}

export type { Producer };
