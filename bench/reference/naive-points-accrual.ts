/**
 * The naive baseline: points-accrual as most tutorials would write it, with the same pure
 * rules. One message at a time: read the member's state from Redis (one round trip), decide,
 * write the state back (another), send the outputs, commit the message's offset. No batching,
 * no pipelining, and no exactly-once: a crash between the write and the commit applies an
 * input twice. It is a yardstick for the bench, never used by memberflow itself.
 */
import { connectClients } from '../../shared/clients.js';
import { loadEnv } from '../../shared/config/env.js';
import { defaultRulesPath, loadRules } from '../../shared/config/rules.js';
import { createProducer, eventIdHeader } from '../../shared/kafka/client.js';
import { physicalTopic } from '../../shared/contracts/topics.js';
import { memberKey } from '../../shared/redis/keys.js';
import { decideContext } from '../../shared/kernel/decide-context.js';
import { deadLetter } from '../../shared/kernel/dead-letter.js';
import { nextOffset } from '../../shared/kernel/offsets.js';
import { tickHeader } from '../../shared/kernel/ticks.js';
import type { InputRecord, OutputEvent } from '../../shared/kernel/types.js';
import { createLogger } from '../../shared/log.js';
import { pointsAccrualDecoder, pointsAccrualWorker } from '../../services/points-accrual/worker.js';
import type { PointsState } from '../../services/points-accrual/state.js';
import { BatchTotals } from './totals.js';

const env = loadEnv();
const rules = loadRules(env.MEMBERFLOW_RULES_FILE ?? defaultRulesPath);
const log = createLogger(env.LOG_LEVEL, 'bench-naive');
const clients = connectClients(env, log, 'bench-naive');
const ns = env.MEMBERFLOW_NAMESPACE;
// Reads the bench's behavior.events; writes state and outputs in a namespace of its own.
const inputTopic = process.env.BENCH_INPUT_TOPIC ?? physicalTopic(ns, 'behavior.events');
const groupId = process.env.BENCH_GROUP ?? `${ns}.naive-points-accrual`;
const decoder = pointsAccrualDecoder(clients.codec);
const producer = createProducer(clients.kafka);
const consumer = clients.kafka.consumer({
  groupId,
  allowAutoTopicCreation: false,
  sessionTimeout: env.KAFKA_SESSION_TIMEOUT_MS,
  maxBytesPerPartition: env.KAFKA_MAX_BYTES_PER_PARTITION,
});
const totals = new BatchTotals();
const stateKey = (member: string) => memberKey(ns, 'naive-points', member);

await clients.codec.registerAll();
await producer.connect();
await consumer.connect();
await consumer.subscribe({ topic: inputTopic, fromBeginning: true });
await consumer.run({
  autoCommit: false,
  eachMessage: async ({ topic, partition, message }) => {
    totals.started();
    const record: InputRecord = {
      topic,
      partition,
      offset: message.offset,
      timestamp: Number(message.timestamp),
      key: message.key ?? null,
      value: message.value ?? null,
    };
    let outputs: OutputEvent[] = [];
    if (message.headers?.[tickHeader] === undefined) {
      const decoded = await decoder.decode(record);
      if (decoded.kind === 'rejected') {
        outputs = [deadLetter(pointsAccrualWorker.name, record, decoded.rejection, decoded)];
      } else {
        const stored = await clients.redis.get(stateKey(decoded.memberId));
        const state =
          stored === null ? pointsAccrualWorker.initialState(decoded.memberId) : (JSON.parse(stored) as PointsState);
        const decision = pointsAccrualWorker.decide(state, decoded.event, decideContext(rules, record, undefined));
        if (decision.kind === 'applied') {
          await clients.redis.set(stateKey(decoded.memberId), JSON.stringify(decision.state));
          outputs = decision.outputs;
        } else {
          outputs = [deadLetter(pointsAccrualWorker.name, record, decision.rejection, decoded)];
        }
      }
    }
    for (const out of outputs) {
      await producer.send({
        topic: physicalTopic(ns, out.topic),
        acks: -1,
        messages: [
          {
            key: out.key,
            value: await clients.codec.encode(out.topic, out.value),
            headers: { [eventIdHeader]: out.id },
          },
        ],
      });
    }
    await consumer.commitOffsets([{ topic, partition, offset: nextOffset(message.offset) }]);
    totals.ended(1);
  },
});

const stop = async () => {
  await consumer.disconnect();
  await producer.disconnect();
  await clients.close();
  totals.write('naive-points-accrual');
  process.exit(0);
};
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());
