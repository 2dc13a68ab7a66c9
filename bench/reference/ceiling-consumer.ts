/**
 * The client's own ceiling: a consumer with the workers' batch settings that reads the
 * input and does nothing but commit each batch (`noop`), or also writes one output record
 * per input through the workers' idempotent producer before committing (`read-write`).
 * Run as its own process by the bench (bench/README.md), configured from the environment.
 */
import { connectClients } from '../../shared/clients.js';
import { loadEnv } from '../../shared/config/env.js';
import { createProducer, createWorkerConsumer } from '../../shared/kafka/client.js';
import { createLogger } from '../../shared/log.js';
import { nextOffset } from '../../shared/kernel/offsets.js';
import { BatchTotals } from './totals.js';

const mode = process.env.BENCH_MODE === 'read-write' ? 'read-write' : 'noop';
const inputTopic = required('BENCH_INPUT_TOPIC');
const outputTopic = process.env.BENCH_OUTPUT_TOPIC;
const groupId = required('BENCH_GROUP');
const env = loadEnv();
const log = createLogger(env.LOG_LEVEL, `bench-ceiling-${mode}`);
const clients = connectClients(env, log, `bench-ceiling-${mode}`);
const producer = createProducer(clients.kafka);
const totals = new BatchTotals();
// The workers' own consumer (and so the selected client, MEMBERFLOW_KAFKA_CLIENT) with their settings.
const consumer = createWorkerConsumer(clients.kafka, {
  groupId,
  sessionTimeout: env.KAFKA_SESSION_TIMEOUT_MS,
  heartbeatInterval: Math.min(3_000, Math.floor(env.KAFKA_SESSION_TIMEOUT_MS / 3)),
  maxBytesPerPartition: env.KAFKA_MAX_BYTES_PER_PARTITION,
  fromBeginning: true,
});

await producer.connect();
await consumer.connect();
// A fetch of only transaction markers never reaches eachBatch: commit past it here (as the worker runtime does).
consumer.onMarkersOnly(({ topic, partition, lastOffset }) => {
  void consumer.commitOffsets([{ topic, partition, offset: nextOffset(lastOffset) }]).catch(() => undefined);
});
await consumer.subscribe([inputTopic]);
await consumer.run({
  autoCommit: false,
  eachBatchAutoResolve: false,
  partitionsConsumedConcurrently: env.KAFKA_PARTITIONS_CONCURRENTLY,
  eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
    if (batch.messages.length === 0) return;
    totals.started();
    if (mode === 'read-write') {
      if (!outputTopic) throw new Error('BENCH_OUTPUT_TOPIC is required in read-write mode');
      await producer.sendBatch({
        acks: -1,
        topicMessages: [
          {
            topic: outputTopic,
            messages: batch.messages.map((m) => ({
              key: m.key,
              value: m.value,
              headers: { 'memberflow-event-id': `${batch.partition}:${m.offset}` },
            })),
          },
        ],
      });
    }
    // Past the batch's transaction markers too (behavior.events is written in transactions), or the group would lag for ever.
    const last = batch.lastOffset();
    resolveOffset(last);
    await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: nextOffset(last) }]);
    totals.ended(batch.messages.length);
    await heartbeat();
  },
});

const stop = async () => {
  await consumer.disconnect();
  await producer.disconnect();
  await clients.close();
  totals.write(`ceiling-${mode}`);
  process.exit(0);
};
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());

function required(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is required`);
  return v;
}
