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
const registry = new SchemaRegistry({ host: process.env.SCHEMA_REGISTRY_URL ?? 'http://127.0.0.1:8081/apis/ccompat/v7' });
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
  const ends = new Map((await admin.fetchTopicOffsets(topic)).filter((e) => BigInt(e.high) > BigInt(e.low)).map((e) => [e.partition, BigInt(e.high)]));
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

// 1. The table: each member's tier, and the tier change it reflects (changeEventId).
const table = new Map();
await readToEnd(tiersTopic, (v) => void table.set(v.userId, v));
for (const v of table.values()) print({ type: 'bootstrap', member: v.userId, tier: v.tier, changeEventId: v.changeEventId });

// 2. The changes, from the beginning: a member's changes are in one partition, in order, so the
//    table's change is met before any later one; everything up to it is already in the table.
//    (The change and its table record are one transaction: a table record is never ahead of its change.)
const waiting = new Set(table.keys());
const consumer = kafka.consumer({ groupId: `${namespace}.node-notifier-${randomUUID()}` });
await consumer.connect();
await consumer.subscribe({ topic: changesTopic, fromBeginning: true });
await consumer.run({
  eachMessage: async ({ message }) => {
    if (message.headers?.[tickHeader] !== undefined || !message.value) return;
    const change = await registry.decode(message.value);
    if (waiting.has(change.userId)) {
      if (change.eventId === table.get(change.userId).changeEventId) waiting.delete(change.userId);
      return;
    }
    print({ type: 'notify', member: change.userId, eventId: change.eventId, kind: change.kind, previousTier: change.previousTier, newTier: change.newTier, reasons: change.reasons });
  },
});

const stop = async () => {
  await consumer.disconnect();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
