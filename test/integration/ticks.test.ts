import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tickerCommand } from '../../cli/commands/ticker.js';
import { ConfigResourceTypes } from 'kafkajs';
import { ensureTopics } from '../../shared/kafka/client.js';
import { waitForTopicLeaders } from '../../shared/kafka/topic-leaders.js';
import { consumerGroup, physicalTopic, topicSpecs } from '../../shared/contracts/topics.js';
import { referenceRun } from '../../shared/kernel/reference-run.js';
import { defaultLimits } from '../../shared/runtime/run-worker.js';
import { signTick } from '../../shared/kernel/tick-signature.js';
import { MemberStore } from '../../shared/redis/member-store.js';
import { allKeys, TestStack, type ReadRecord } from '../support/harness.js';
import { timedDecoder, timedWorker, ttl, type Credits } from '../support/timed-worker.js';

describe('ticks against the real stack: time-driven work is exactly once and replays the same', () => {
  let s: TestStack;
  beforeAll(async () => {
    s = await TestStack.create('ticks', { partitions: 3 });
  });
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when beforeAll failed
  afterAll(async () => s?.close());

  const ctx = () => ({ env: s.env, rules: s.rules, log: s.log });
  const members = Array.from({ length: 12 }, (_, i) => `m${i}`);

  async function runTimedUntilCaughtUp() {
    const w = await s.startDefinition(timedWorker, timedDecoder);
    await s.waitForLag0(timedWorker.name, 'activity.events');
    await w.stop();
  }

  async function reference(inputs: ReadRecord[]) {
    const log = [];
    for (const record of inputs)
      log.push({
        record,
        decoded: await timedDecoder.decode(
          record.tick === undefined ? record : { ...record, value: Buffer.from('{}') },
        ),
      });
    return referenceRun(timedWorker, log, s.rules, defaultLimits(s.rules));
  }

  it('expires credits when ticks pass their time, for members that send nothing more', async () => {
    // Round 1: credits at t=0..; a tick before anything is due; a tick when the first half is due.
    await s.produceJson(members.map((m, i) => ({ id: `c1-${m}`, member: m, at: i < 6 ? 0 : 5_000 })));
    expect(await tickerCommand(ctx(), { intervalMs: 1, once: true, time: ttl - 1 })).toBe(1);
    expect(await tickerCommand(ctx(), { intervalMs: 1, once: true, time: ttl })).toBe(1);
    await s.produceJson([{ id: 'c2-m0', member: 'm0', at: 2_000 }]);
    expect(await tickerCommand(ctx(), { intervalMs: 1, once: true, time: 10_000 })).toBe(1);
    await runTimedUntilCaughtUp();

    const inputs = await s.readAll('activity.events');
    expect(inputs.filter((r) => r.tick !== undefined)).toHaveLength(9); // 3 rounds x 3 partitions
    const ref = await reference(inputs);
    const out = await s.readAll('behavior.events');
    expect(out.map((r) => r.id).sort()).toEqual(ref.outputs.map((o) => o.id).sort());
    const expiries = out.filter((r) => r.id!.startsWith('expire:'));
    expect(expiries).toHaveLength(members.length + 1);
    const store = new MemberStore<Credits>(s.clients.redis, s.ns, timedWorker);
    for (const [m, state] of ref.states) expect(await store.state(m)).toEqual(state);
    expect((await store.state('m0'))?.expired).toBe(2);
  });

  it('a redelivered tick (offsets reset) changes no state and publishes no expiry again: its outputs and journal left Redis at the commit', async () => {
    const store = new MemberStore<Credits>(s.clients.redis, s.ns, timedWorker);
    const before = await store.load(members);
    for (const m of members) expect(before.get(m)?.record.outbox).toEqual([]);
    expect(await allKeys(s.clients.redis, `mf:${s.ns}:${timedWorker.name}:tick:*`)).toEqual([]);
    const outBefore = await s.readAll('behavior.events');
    await s.admin.resetOffsets({
      groupId: consumerGroup(s.ns, timedWorker.name),
      topic: s.topic('activity.events'),
      earliest: true,
    });
    await runTimedUntilCaughtUp();
    const after = await store.load(members);
    for (const m of members) expect(after.get(m)?.version).toBe(before.get(m)?.version);
    const outAfter = await s.readAll('behavior.events');
    const again = outAfter.filter((r) => !outBefore.some((b) => b.partition === r.partition && b.offset === r.offset));
    expect(again.filter((r) => r.id!.startsWith('expire:'))).toEqual([]);
  });

  it('behavior-events forwards every tick to the same partition of behavior.events', async () => {
    const worker = await s.startWorker('behavior-events');
    const before = (await s.readAll('behavior.events')).length;
    await tickerCommand(ctx(), { intervalMs: 1, once: true, time: 123_456 });
    await s.waitForLag0('behavior-events', 'activity.events');
    await worker.stop();
    const forwarded = (await s.readAll('behavior.events', { minRecords: before + 3 })).filter(
      (r) => r.tick === 123_456,
    );
    expect(forwarded.map((r) => r.partition).sort()).toEqual([0, 1, 2]);
    for (const r of forwarded) {
      const value = JSON.parse((r.decoded as Buffer).toString()) as { tick: number; from: string };
      expect(value.tick).toBe(123_456);
      expect(value.from).toMatch(
        new RegExp(`^tick:${s.topic('activity.events').replace(/\./g, '\\.')}:${r.partition}:\\d+$`),
      );
      expect(r.id).toBe(`fwd:${value.from}`);
    }
  });

  it('points-accrual forwards ticks to points.ledger; tier-evaluation does not forward them: the tier topics carry none', async () => {
    const points = await s.startWorker('points-accrual');
    await s.waitForLag0('points-accrual', 'behavior.events');
    await points.stop();
    const ledgerTicks = (await s.readAll('points.ledger', { minRecords: 3 })).filter((r) => r.tick === 123_456);
    expect(ledgerTicks.map((r) => r.partition).sort()).toEqual([0, 1, 2]);
    const tiers = await s.startWorker('tier-evaluation');
    await s.waitForLag0('tier-evaluation', 'points.ledger');
    await tiers.stop();
    for (const topic of ['member.tier-changes', 'member.tiers'] as const)
      expect(
        (await s.readAll(topic)).filter((r) => r.tick !== undefined),
        topic,
      ).toEqual([]);
  });

  it("a tick on activity.events without the ticker's signature is a dead letter, not time: nothing is forwarded", async () => {
    const farFuture = Date.UTC(2100, 0, 1);
    const topic = s.topic('activity.events');
    await s.producer.send({
      topic,
      acks: -1,
      messages: [
        {
          key: '__tick__',
          partition: 0,
          value: JSON.stringify({ tick: farFuture }),
          headers: { 'memberflow-tick': String(farFuture) },
        },
        {
          key: '__tick__',
          partition: 1,
          value: JSON.stringify({ tick: farFuture }),
          headers: {
            'memberflow-tick': String(farFuture),
            'memberflow-tick-sig': signTick('not-the-ticker-key!', topic, 1, farFuture),
          },
        },
        // A real tick's signature copied onto another time.
        {
          key: '__tick__',
          partition: 2,
          value: JSON.stringify({ tick: farFuture }),
          headers: {
            'memberflow-tick': String(farFuture),
            'memberflow-tick-sig': signTick(s.env.MEMBERFLOW_TICK_KEY!, topic, 2, 123_456),
          },
        },
      ],
    });
    const worker = await s.startWorker('behavior-events');
    await s.waitForLag0('behavior-events', 'activity.events');
    await worker.stop();
    const letters = (await s.readAll('activity.dlq', { minRecords: 3 })).map(
      (r) => r.decoded as { reason: string; sourcePartition: number; worker: string; message: string },
    );
    const tickLetters = letters.filter((l) => l.reason === 'unsigned_tick' || l.reason === 'forged_tick');
    expect(tickLetters.map((l) => [l.sourcePartition, l.reason]).sort()).toEqual([
      [0, 'unsigned_tick'],
      [1, 'forged_tick'],
      [2, 'forged_tick'],
    ]);
    for (const l of tickLetters) expect(l.worker).toBe('behavior-events');
    expect((await s.readAll('behavior.events')).filter((r) => r.tick === farFuture)).toEqual([]);
  });

  it("a signed tick further ahead of the broker's append time than MEMBERFLOW_TICK_MAX_AHEAD_MS is a dead letter; one within it is time", async () => {
    const topic = s.topic('activity.events');
    const key = s.env.MEMBERFLOW_TICK_KEY!;
    // activity.events is LogAppendTime: the record's timestamp will be the broker's clock, whatever the producer says.
    const ahead = Date.now() + 3_600_000;
    const near = Date.now() + 60_000;
    const tick = (partition: number, time: number) => ({
      key: '__tick__',
      partition,
      value: JSON.stringify({ tick: time }),
      timestamp: String(time),
      headers: { 'memberflow-tick': String(time), 'memberflow-tick-sig': signTick(key, topic, partition, time) },
    });
    await s.producer.send({ topic, acks: -1, messages: [tick(0, ahead), tick(1, near)] });
    const worker = await s.startWorker('behavior-events');
    await s.waitForLag0('behavior-events', 'activity.events');
    await worker.stop();
    const letters = (await s.readAll('activity.dlq')).map(
      (r) => r.decoded as { reason: string; sourcePartition: number },
    );
    expect(letters.filter((l) => l.reason === 'tick_ahead_of_append_time').map((l) => l.sourcePartition)).toEqual([0]);
    const forwarded = (await s.readAll('behavior.events')).filter((r) => r.tick === ahead || r.tick === near);
    expect(forwarded.map((r) => [r.partition, r.tick])).toEqual([[1, near]]);
  });

  it('topics create brings an existing activity.events to LogAppendTime and keeps its own settings', async () => {
    const ns = `${s.ns}-old`;
    const name = physicalTopic(ns, 'activity.events');
    const spec = topicSpecs.filter((t) => t.logical === 'activity.events');
    // As an older memberflow left it: CreateTime (the default), with a retention of its own.
    await s.admin.createTopics({
      // kafkajs' own wait gives up on a topic the broker does not know yet (shared/kafka/topic-leaders.ts).
      waitForLeaders: false,
      topics: [
        {
          topic: name,
          numPartitions: 1,
          replicationFactor: 1,
          configEntries: [{ name: 'retention.ms', value: '123456789' }],
        },
      ],
    });
    await waitForTopicLeaders(s.admin, [name]);
    try {
      expect((await ensureTopics(s.admin, ns, 1, spec)).altered).toEqual([name]);
      const { resources } = await s.admin.describeConfigs({
        resources: [{ type: ConfigResourceTypes.TOPIC, name }],
        includeSynonyms: false,
      });
      const value = (n: string) => resources[0]!.configEntries.find((e) => e.configName === n)?.configValue;
      expect([value('message.timestamp.type'), value('retention.ms')]).toEqual(['LogAppendTime', '123456789']);
      expect((await ensureTopics(s.admin, ns, 1, spec)).altered).toEqual([]);
    } finally {
      await s.admin.deleteTopics({ topics: [name] });
    }
  });
});
