// A notification service's core, reading memberflow's tier topics: bootstrap from member.tiers,
// then follow member.tier-changes, so that every tier change after the table is handled once.
// Plain Node.js (ESM) with kafkajs and @kafkajs/confluent-schema-registry; see README.md.
//
//   KAFKA_BROKERS=127.0.0.1:9092 SCHEMA_REGISTRY_URL=http://127.0.0.1:8081/apis/ccompat/v7 \
//   MEMBERFLOW_NAMESPACE=memberflow node notifier.mjs
//
// It prints one JSON line per member of the table ({"type":"bootstrap",...}), then one per tier
// change to act on ({"type":"notify",...}); a real service would send its e-mail there.
import { randomUUID } from 'node:crypto';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { Kafka, logLevel } from 'kafkajs';

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const registry = new SchemaRegistry({
  host: process.env.SCHEMA_REGISTRY_URL ?? 'http://127.0.0.1:8081/apis/ccompat/v7',
});
const namespace = process.env.MEMBERFLOW_NAMESPACE ?? 'memberflow';
const tiersTopic = `${namespace}.member.tiers`;
const changesTopic = `${namespace}.member.tier-changes`;
// Forwarded ticks are JSON, not Avro; memberflow's tier topics carry none, but a reader of
// behavior.events or points.ledger must skip them by this header.
const tickHeader = 'memberflow-tick';

const kafka = new Kafka({ clientId: 'node-notifier', brokers, logLevel: logLevel.WARN });
const print = (line) => process.stdout.write(`${JSON.stringify(line)}\n`);

/**
 * Reads a topic to its end as it is now. memberflow writes in transactions: a partition's last
 * offset is usually a commit marker, which no consumer receives, so the end is reached by
 * position (a batch's lastOffset counts markers; a fetch of only markers ends an empty batch).
 * kafkajs reads read_committed by default.
 */
async function readToEnd(topic, onValue) {
  const admin = kafka.admin();
  await admin.connect();
  const ends = new Map(
    (await admin.fetchTopicOffsets(topic))
      .filter((e) => BigInt(e.high) > BigInt(e.low))
      .map((e) => [e.partition, BigInt(e.high)]),
  );
  await admin.disconnect();
  if (ends.size === 0) return;
  const consumer = kafka.consumer({ groupId: `node-notifier-bootstrap-${randomUUID()}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await new Promise((resolve, reject) => {
    const reached = (partition, lastOffset) => {
      const end = ends.get(partition);
      if (end !== undefined && lastOffset !== null && BigInt(lastOffset) + 1n >= end) ends.delete(partition);
      if (ends.size === 0) resolve();
    };
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      if (payload.batchSize === 0) reached(payload.partition, payload.lastOffset);
    });
    consumer
      .run({
        eachBatch: async ({ batch }) => {
          const end = ends.get(batch.partition);
          if (end === undefined) return;
          for (const m of batch.messages) {
            if (BigInt(m.offset) >= end) break;
            if (m.headers?.[tickHeader] === undefined && m.value) await onValue(await registry.decode(m.value));
          }
          reached(batch.partition, batch.lastOffset());
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();
}

// 0. Where the changes will be followed from: each partition's last stable offset now
//    (fetchTopicOffsets reads read_committed: no open transaction has a record below it).
const admin = kafka.admin();
await admin.connect();
const followFrom = await admin.fetchTopicOffsets(changesTopic);
await admin.disconnect();

// 1. The table: each member's tier, and the sequence of the tier change it reflects.
const table = new Map();
await readToEnd(tiersTopic, (v) => void table.set(v.userId, v));
for (const v of table.values())
  print({ type: 'bootstrap', member: v.userId, tier: v.tier, sequence: v.sequence, changeEventId: v.changeEventId });

// 2. The changes from step 0's offsets: any change not yet committed then is at or after them, and
//    a change the table already holds has a sequence not greater than its member's table record.
//    Records written before memberflow had sequences carry "": with one of those in the table,
//    read from the beginning and skip that member's changes up to the table's changeEventId.
const legacy = new Set([...table.values()].filter((v) => v.sequence === '').map((v) => v.userId));
const consumer = kafka.consumer({ groupId: `${namespace}.node-notifier-${randomUUID()}` });
await consumer.connect();
await consumer.subscribe({ topic: changesTopic, fromBeginning: true });
const isNew = (change) => {
  const known = table.get(change.userId);
  if (known === undefined) return true;
  if (!legacy.has(change.userId)) return change.sequence > known.sequence;
  if (change.eventId === known.changeEventId) table.delete(change.userId);
  return false;
};
const fromBeginning = legacy.size > 0;
await consumer.run({
  eachMessage: async ({ message }) => {
    if (message.headers?.[tickHeader] !== undefined || !message.value) return;
    const change = await registry.decode(message.value);
    if (!isNew(change)) return;
    print({
      type: 'notify',
      member: change.userId,
      eventId: change.eventId,
      sequence: change.sequence,
      kind: change.kind,
      previousTier: change.previousTier,
      newTier: change.newTier,
      reasons: change.reasons,
    });
  },
});
if (!fromBeginning)
  for (const { partition, offset } of followFrom) consumer.seek({ topic: changesTopic, partition, offset });

const stop = async () => {
  await consumer.disconnect();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
