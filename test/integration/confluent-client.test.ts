import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MemberProfile } from '../../services/behavior-events/profile.js';
import { workers, workerDefinition } from '../../services/index.js';
import { createKafka, createProducer, kafkaClientOf, type KafkaClientKind } from '../../shared/kafka/client.js';
import { runWorker } from '../../shared/runtime/run-worker.js';
import type { RunningWorker, WorkerRuntimeOptions } from '../../shared/runtime/worker-options.js';
import type { Decoded, InputDecoder, InputRecord } from '../../shared/kernel/types.js';
import type { WorkerDefinition } from '../../shared/runtime/worker-definition.js';
import { MemberStore } from '../../shared/redis/member-store.js';
import { generateActivity } from '../support/activity-generator.js';
import { TestStack, exitOf } from '../support/harness.js';
import { countEventIds } from '../support/kcat.js';
import { signTick } from '../../shared/kernel/tick-signature.js';
import { timedDecoder, timedWorker, type CreditEvent, type Credits } from '../support/timed-worker.js';

/**
 * The worker runtime on MEMBERFLOW_KAFKA_CLIENT=confluent (@confluentinc/kafka-javascript), in this
 * process: same partitions as kafkajs for the same keys, the kernel's guarantees, commits past
 * transaction markers, bounded replays, and the crash/retry mapping of kafkajs' CRASH event (the last
 * also with kafkajs, as the reference). Worker processes of the other suites follow the variable.
 */
const behavior = workers['behavior-events']!;
const t0 = Date.UTC(2026, 0, 5, 2, 0, 0);

function purchases(members: string[], perMember: number, prefix: string) {
  const events: Record<string, unknown>[] = [];
  for (let i = 0; i < perMember; i++) {
    for (const m of members)
      events.push({
        eventId: `${prefix}-${m}-${i}`,
        userId: m,
        type: 'purchase',
        occurredAt: t0 + i * 3_600_000,
        amountFen: 100 + i,
        itemId: `course-${i % 4}`,
        category: `cat-${i % 3}`,
      });
  }
  return events;
}

const json = (events: Record<string, unknown>[]) =>
  events.map((e) => ({ key: e.userId as string, value: Buffer.from(JSON.stringify(e)) }));

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([
    p,
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms).unref()),
  ]);
}

describe('the worker runtime on the confluent client (librdkafka)', () => {
  let s: TestStack;
  let replay: TestStack;
  /** For the error tests: inputs of their own. */
  let e: TestStack;
  let ck: Kafka;
  const running: RunningWorker[] = [];

  beforeAll(async () => {
    s = await TestStack.create('ckjs', { partitions: 6 });
    replay = await TestStack.create('ckjs-r', { partitions: 6 });
    e = await TestStack.create('ckjs-e', { partitions: 3 });
    ck = createKafka(s.env.KAFKA_BROKERS, `test-${s.ns}-ckjs`, s.log, 'confluent');
  });
  afterAll(async () => {
    for (const w of running) await w.stop().catch(() => undefined);
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when beforeAll failed
    await e?.close();
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when beforeAll failed
    await replay?.close();
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when beforeAll failed
    await s?.close();
  });

  function start(
    kafka: Kafka,
    extra: Partial<WorkerRuntimeOptions<MemberProfile, unknown>> = {},
    stack = s,
  ): Promise<RunningWorker> {
    return runWorker({
      worker: behavior.definition,
      decoder: behavior.decoder(stack.clients.codec, () => stack.rules),
      kafka,
      redis: stack.clients.redis,
      codec: stack.clients.codec,
      namespace: stack.ns,
      rules: stack.rules,
      log: stack.log,
      sessionTimeoutMs: 6000,
      ...extra,
    }).then((w) => {
      running.push(w);
      return w;
    });
  }

  it('puts every key on the partition kafkajs puts it on (murmur2)', async () => {
    expect(kafkaClientOf(ck)).toBe('confluent');
    expect(kafkaClientOf(s.clients.kafka)).toBe('kafkajs');
    const keys = [...Array.from({ length: 400 }, (_, i) => `m${i}`), 'ü-mitglied-✓', 'x'.repeat(300), '17', 'a b c'];
    const topic = s.topic('activity.dlq');
    await s.producer.send({ topic, acks: -1, messages: keys.map((key) => ({ key, value: 'kafkajs' })) });
    const confluent = createProducer(ck);
    await confluent.connect();
    try {
      await confluent.send({
        topic,
        acks: -1,
        messages: keys.map((key) => ({ key, value: 'confluent', headers: { h: 'v' } })),
      });
    } finally {
      await confluent.disconnect();
    }
    const read = await s.readAll('activity.dlq', { minRecords: 2 * keys.length });
    const where = (client: string) =>
      new Map(read.filter((r) => r.value?.toString() === client).map((r) => [r.key!.toString(), r.partition]));
    const byKafkajs = where('kafkajs');
    const byConfluent = where('confluent');
    expect(byConfluent.size).toBe(keys.length);
    expect(new Set(byKafkajs.values()).size).toBe(6);
    for (const k of keys) expect(byConfluent.get(k), k).toBe(byKafkajs.get(k));
  });

  const members = ['ann', 'ben', 'cat', 'dan', 'eve', 'fay', 'gus'];

  it('applies each input once and publishes one output per input, with headers and keys', async () => {
    await s.produceJson(purchases(members, 6, 'p'));
    const w = await start(ck);
    await s.waitForLag0('behavior-events', 'activity.events', 60_000);
    await w.stop();
    const out = await s.readAll('behavior.events', { minRecords: 42 });
    expect(out).toHaveLength(42);
    expect(new Set(out.map((r) => r.id)).size).toBe(42);
    for (const r of out) expect(r.id).toBe(`bhv:${(r.decoded as { sourceEventId: string }).sourceEventId}`);
    const store = new MemberStore<MemberProfile>(s.clients.redis, s.ns, workerDefinition('behavior-events'));
    expect((await store.state('ann'))?.purchaseCount).toBe(6);
    expect(w.totals).toMatchObject({ records: 42, applied: 42 });
  });

  it('commits past transaction markers and skips aborted records, so the group reaches lag 0', async () => {
    const txp = s.clients.kafka.producer({ transactionalId: `${s.ns}.txn`, idempotent: true, maxInFlightRequests: 1 });
    await txp.connect();
    try {
      const aborted = await txp.transaction();
      await aborted.send({ topic: s.topic('activity.events'), messages: json(purchases(members, 1, 'aborted')) });
      await aborted.abort();
      const committed = await txp.transaction();
      await committed.send({ topic: s.topic('activity.events'), messages: json(purchases(members, 2, 'txn')) });
      await committed.commit();
    } finally {
      await txp.disconnect();
    }
    const w = await start(ck);
    // Every partition now ends with a commit marker: without committing past it, the lag stays above 0.
    await s.waitForLag0('behavior-events', 'activity.events', 60_000);
    await w.stop();
    expect(w.totals.records).toBe(14);
    const ids = (await s.readAll('behavior.events', { minRecords: 56 })).map((r) => r.id!);
    expect(ids.filter((id) => id.startsWith('bhv:txn-'))).toHaveLength(14);
    expect(ids.filter((id) => id.startsWith('bhv:aborted-'))).toEqual([]);
  });

  it('a bounded replay whose ends lie past transaction markers reaches them, and a resumed one knows at once', async () => {
    const topic = s.topic('activity.events');
    const stopAt = new Map((await s.admin.fetchTopicOffsets(topic)).map((o) => [`${topic}#${o.partition}`, o.high]));
    const positions = new Map<string, string>();
    const opts = {
      inputNamespace: s.ns,
      stopAt,
      onBatch: (_r: unknown, partition: number, t: string, next: string) =>
        void positions.set(`${t}#${partition}`, next),
    };
    const first = await start(ck, opts, replay);
    await within(first.reachedEnd, 60_000, 'the replay to reach its ends');
    await first.stop();
    expect(first.totals.records).toBe(56);
    expect(positions).toEqual(new Map([...stopAt].filter(([, end]) => end !== '0')));
    // Same group, nothing left: the ends are found from the committed offsets when the group is joined.
    const again = await start(ck, opts, replay);
    await within(again.reachedEnd, 60_000, 'the resumed replay to see it is done');
    await again.stop();
    expect(again.totals.records).toBe(0);
  });

  it(
    'publishes in transactions: a worker killed after publishing leaves only aborted copies, a read_committed reader gets each output once',
    { timeout: 300_000 },
    async () => {
      const k = await TestStack.create('ckjs-k', { partitions: 3 });
      try {
        const stream = generateActivity(3_000, { seed: 5 });
        for (let i = 0; i < stream.length; i += 50) await k.produce('activity.events', stream.slice(i, i + 50));
        const env = { MEMBERFLOW_KAFKA_CLIENT: 'confluent', KAFKA_MAX_BYTES_PER_PARTITION: '16384' };
        // Published, then killed before the commit: the transaction stays open until the next owner fences it.
        const first = k.spawnWorker('behavior-events', [], { ...env, MEMBERFLOW_FAILPOINT: 'kill-after-publish:2' });
        expect((await exitOf(first, 90_000, 'the worker to reach its failpoint')).signal).toBe('SIGKILL');
        const second = k.spawnWorker('behavior-events', ['--exit-when-idle', '1500'], env);
        expect((await exitOf(second, 180_000, 'the second run to catch up and exit when idle')).code).toBe(0);

        const reference = await k.behaviorReference(await k.readAll('activity.events', { minRecords: stream.length }));
        const published = [...(await k.readAll('behavior.events')), ...(await k.readAll('activity.dlq'))];
        expect(new Set(published.map((r) => r.id)).size).toBe(published.length);
        expect(published.map((r) => r.id).sort()).toEqual(reference.outputs.map((o) => o.id).sort());
        const brokers = k.env.KAFKA_BROKERS.join(',');
        const committed = countEventIds(brokers, k.topic('behavior.events'), 'read_committed');
        const everything = countEventIds(brokers, k.topic('behavior.events'), 'read_uncommitted');
        expect(committed.duplicates).toBe(0);
        // The killed run's copies are there, aborted: the outputs really went through transactions.
        expect(everything.records - committed.records).toBeGreaterThan(0);
      } finally {
        await k.close();
      }
    },
  );

  it(
    "bounds signed ticks by the broker's append time, read from the topic's config (the client does not report it per record)",
    { timeout: 120_000 },
    async () => {
      const t = await TestStack.create('ckjs-t', { partitions: 2 });
      try {
        const topic = t.topic('activity.events');
        const [ahead, near] = [Date.now() + 3_600_000, Date.now() + 60_000];
        const tick = (partition: number, time: number) => ({
          key: '__tick__',
          partition,
          value: JSON.stringify({ tick: time }),
          headers: {
            'memberflow-tick': String(time),
            'memberflow-tick-sig': signTick(t.env.MEMBERFLOW_TICK_KEY!, topic, partition, time),
          },
        });
        await t.producer.send({ topic, acks: -1, messages: [tick(0, ahead), tick(1, near)] });
        const w = await t.startWorker('behavior-events', {
          kafka: createKafka(t.env.KAFKA_BROKERS, `test-${t.ns}-ck`, t.log, 'confluent'),
        });
        await t.waitForLag0('behavior-events', 'activity.events', 60_000);
        await w.stop();
        const letters = (await t.readAll('activity.dlq')).map(
          (r) => r.decoded as { reason: string; sourcePartition: number },
        );
        expect(letters.filter((l) => l.reason === 'tick_ahead_of_append_time').map((l) => l.sourcePartition)).toEqual([
          0,
        ]);
        expect(
          (await t.readAll('behavior.events')).filter((r) => r.tick !== undefined).map((r) => [r.partition, r.tick]),
        ).toEqual([[1, near]]);
      } finally {
        await t.close();
      }
    },
  );

  describe.each<KafkaClientKind>(['kafkajs', 'confluent'])('an eachBatch error with %s', (client) => {
    let kafka: Kafka;
    beforeAll(() => {
      kafka = client === 'confluent' ? ck : createKafka(s.env.KAFKA_BROKERS, `test-${s.ns}-kjs`, s.log);
    });

    function worker(
      name: string,
      decoder: InputDecoder<CreditEvent>,
      extra: Partial<WorkerDefinition<Credits, CreditEvent>> = {},
    ): Promise<RunningWorker> {
      const definition: WorkerDefinition<Credits, CreditEvent> = {
        ...timedWorker,
        ...extra,
        name: `${name}-${client}`,
      };
      return runWorker({
        worker: definition,
        decoder,
        kafka,
        redis: e.clients.redis,
        codec: e.clients.codec,
        namespace: e.ns,
        rules: e.rules,
        log: e.log,
        sessionTimeoutMs: 6000,
      }).then((w) => {
        running.push(w);
        return w;
      });
    }

    it('is retried with backoff, and the batch is processed once it succeeds', async () => {
      // Fails for 1.5 s from the first attempt: several attempts, spaced by the backoff.
      const attempts: number[] = [];
      const flaky: InputDecoder<CreditEvent> = {
        async decode(record: InputRecord): Promise<Decoded<CreditEvent>> {
          const now = Date.now();
          if (attempts.length === 0 || now - attempts[0]! < 1500) {
            if (attempts.length === 0 || now - attempts[attempts.length - 1]! > 50) attempts.push(now);
            // As an unreachable registry fails: a network error code, which the kernel retries (decode-safely.ts).
            throw Object.assign(new Error('registry unreachable'), { code: 'ECONNREFUSED' });
          }
          return timedDecoder.decode(record);
        },
      };
      await e.produce('activity.events', [
        { key: 'rt', value: JSON.stringify({ id: `retry-${client}`, member: 'rt', at: t0 }) },
      ]);
      const w = await worker('flaky', flaky);
      await e.waitForLag0(`flaky-${client}`, 'activity.events', 90_000);
      expect(attempts.length).toBeGreaterThanOrEqual(2);
      expect(attempts.length).toBeLessThan(12);
      expect(
        await Promise.race([w.failed.then(() => 'failed'), new Promise((r) => setTimeout(() => r('running'), 100))]),
      ).toBe('running');
      await w.stop();
    });

    it('a decoder that throws on one record: that record is a dead letter (processing_error), the worker goes on', async () => {
      const throwing: InputDecoder<CreditEvent> = {
        async decode(record: InputRecord): Promise<Decoded<CreditEvent>> {
          if (record.value?.toString().includes(`"pill-${client}"`))
            throw new TypeError('cannot read properties of undefined');
          return timedDecoder.decode(record);
        },
      };
      await e.produce('activity.events', [
        { key: 'pp', value: JSON.stringify({ id: `pill-${client}`, member: 'pp', at: t0 }) },
        { key: 'pp', value: JSON.stringify({ id: `next-${client}`, member: 'pp', at: t0 + 1 }) },
      ]);
      const w = await worker('pill', throwing);
      await e.waitForLag0(`pill-${client}`, 'activity.events', 90_000);
      expect(
        await Promise.race([w.failed.then(() => 'failed'), new Promise((r) => setTimeout(() => r('running'), 100))]),
      ).toBe('running');
      await w.stop();
      const letters = (await e.readAll('activity.dlq')).map(
        (r) => r.decoded as { worker: string; reason: string; message: string },
      );
      const mine = letters.filter((l) => l.worker === `pill-${client}`);
      expect(mine.map((l) => l.reason)).toEqual(['processing_error']);
      expect(mine[0]!.message).not.toContain('undefined');
    });

    it("stops the worker for good on a programmer error outside one record's decoding and rules (kafkajs: CRASH without restart)", async () => {
      // A view loader that throws: a bug in the batch's wiring, not in one record, so no dead letter can stand for it.
      // eslint-disable-next-line @typescript-eslint/require-await -- a view loader returns a Promise: the throw is a rejection
      const view = () => async (batch: { events: readonly CreditEvent[] }) => {
        if (batch.events.some((ev) => ev.id.startsWith('poison')))
          throw new TypeError('cannot read properties of undefined');
        return undefined;
      };
      await e.produce('activity.events', [
        { key: 'px', value: JSON.stringify({ id: `poison-${client}`, member: 'px', at: t0 }) },
      ]);
      const w = await worker('poisoned', timedDecoder, { view });
      let err: unknown = await within(w.failed, 90_000, 'the worker to fail');
      while (err instanceof Error && err.cause) err = err.cause; // kafkajs wraps it in KafkaJSNonRetriableError
      expect(err).toBeInstanceOf(TypeError);
      await w.stop();
      // Nothing of the poisoned batch was committed.
      expect(await e.lag(`poisoned-${client}`, 'activity.events')).toBeGreaterThan(0);
    });
  });
});
