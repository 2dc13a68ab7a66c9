import { workerDefinition } from '../../services/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningWorker } from '../../shared/runtime/worker-options.js';
import { outboxKey } from '../../shared/redis/keys.js';
import { consumerGroup } from '../../shared/contracts/topics.js';
import { MemberStore } from '../../shared/redis/member-store.js';
import type { MemberProfile } from '../../services/behavior-events/profile.js';
import { TestStack, waitFor, type ReadRecord } from '../support/harness.js';

const worker = 'behavior-events';
const t0 = Date.UTC(2026, 0, 5, 2, 0, 0);

function purchases(members: string[], perMember: number, prefix: string) {
  const events: Record<string, unknown>[] = [];
  for (let i = 0; i < perMember; i++) {
    for (const m of members) {
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
  }
  return events;
}

const idsOf = (records: ReadRecord[]) => records.map((r) => r.id);
const value = (r: ReadRecord) => r.decoded as Record<string, unknown>;

describe('kernel guarantees against real Kafka, registry and Redis', () => {
  let s: TestStack;
  let running: RunningWorker | undefined;
  let store: MemberStore<MemberProfile>;

  beforeAll(async () => {
    s = await TestStack.create('kernel');
    store = new MemberStore<MemberProfile>(s.clients.redis, s.ns, workerDefinition(worker));
  });
  afterAll(async () => {
    await running?.stop();
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when beforeAll failed
    await s?.close();
  });

  async function runUntilCaughtUp() {
    running = await s.startWorker(worker);
    await s.waitForLag0(worker, 'activity.events');
    await running.stop();
    running = undefined;
  }

  async function snapshot(members: string[]) {
    const loaded = await store.load(members);
    return new Map(
      [...loaded].map(([m, l]) => [m, { version: l.version, state: l.record.state, watermarks: l.record.watermarks }]),
    );
  }

  const members = ['ann', 'ben', 'cat', 'dan', 'eve'];

  it('applies each input once and publishes one output per input with a deterministic id', async () => {
    await s.produceJson(purchases(members, 6, 'p'));
    await runUntilCaughtUp();
    const out = await s.readAll('behavior.events', { minRecords: 30 });
    expect(out).toHaveLength(30);
    expect(new Set(idsOf(out)).size).toBe(30);
    for (const r of out) expect(r.id).toBe(`bhv:${value(r).sourceEventId as string}`);
    const ann = await store.state('ann');
    expect(ann?.purchaseCount).toBe(6);
    expect(ann?.totalSpendFen).toBe(100 + 101 + 102 + 103 + 104 + 105);
  });

  it('a redelivered input (offsets reset to the beginning) changes no state, and outputs already committed are not published again', async () => {
    const before = await snapshot(members);
    const outBefore = await s.readAll('behavior.events');
    // The outputs left the outbox once their inputs' offsets were committed.
    for (const m of members) expect(await s.clients.redis.exists(outboxKey(s.ns, worker, m))).toBe(0);
    await s.admin.resetOffsets({
      groupId: consumerGroup(s.ns, worker),
      topic: s.topic('activity.events'),
      earliest: true,
    });
    expect(await s.lag(worker, 'activity.events')).toBe(30);
    await runUntilCaughtUp();
    expect(await snapshot(members)).toEqual(before);
    expect(await s.readAll('behavior.events')).toHaveLength(outBefore.length);
  });

  it('an upstream duplicate (same eventId at a new offset) changes nothing and emits nothing', async () => {
    const before = await snapshot(['ann']);
    const outBefore = (await s.readAll('behavior.events')).length;
    await s.produceJson([purchases(['ann'], 1, 'p')[0]!]);
    await runUntilCaughtUp();
    const after = await snapshot(['ann']);
    expect(after.get('ann')!.state).toEqual(before.get('ann')!.state);
    expect(after.get('ann')!.version).toBe(before.get('ann')!.version + 1); // only the watermark moved
    expect((await s.readAll('behavior.events')).length).toBe(outBefore);
    const dlq = await s.readAll('activity.dlq');
    expect(dlq).toHaveLength(0);
  });

  it('a bad record goes to the dead-letter topic with its bytes, coordinates and reason, and the partition keeps flowing', async () => {
    const broken = [
      { key: 'fay', value: '{"eventId":"x1","userId":"fay","type":"purchase","occurredAt":1767225600000,' },
      {
        key: 'fay',
        value: JSON.stringify({
          eventId: 'x2',
          userId: 'fay',
          type: 'purchase',
          occurredAt: t0,
          amountFen: -5,
          itemId: 'c',
        }),
      },
      { key: 'fay', value: JSON.stringify({ eventId: 'x3', userId: 'fay', type: 'warp', occurredAt: t0 }) },
      {
        key: 'fay',
        value: JSON.stringify({
          eventId: 'x4',
          userId: 'fay',
          type: 'purchase',
          occurredAt: t0 + 1,
          amountFen: 700,
          itemId: 'c',
        }),
      },
    ];
    await s.produce('activity.events', broken);
    await runUntilCaughtUp();
    const dlq = await s.readAll('activity.dlq', { minRecords: 3 });
    expect(dlq.map((r) => value(r).reason)).toEqual(['malformed_json', 'invalid_amount', 'unknown_type']);
    const inputs = await s.readAll('activity.events');
    for (const r of dlq) {
      const v = value(r);
      const source = inputs.find((i) => i.partition === v.sourcePartition && i.offset === v.sourceOffset)!;
      expect(source).toBeDefined();
      expect(v.sourceTopic).toBe(s.topic('activity.events'));
      expect(Buffer.compare(v.originalValue as Buffer, source.value!)).toBe(0);
      expect(v.sourceTimestamp).toBe(source.timestamp);
      expect(r.id).toBe(
        `dlq:${worker}:${s.topic('activity.events')}:${v.sourcePartition as number}:${v.sourceOffset as string}`,
      );
      expect(String(v.message).length).toBeGreaterThan(10);
    }
    const fay = await store.state('fay');
    expect(fay?.totalSpendFen).toBe(700);
  });

  it('keeps input order per member in the outputs', async () => {
    const seq = ['gus', 'hal'].flatMap((m) =>
      Array.from({ length: 25 }, (_, i) => ({
        eventId: `o-${m}-${i}`,
        userId: m,
        type: i % 2 ? 'checkin' : 'content_view',
        itemId: 'v',
        occurredAt: t0 + i,
      })),
    );
    // Interleave the two members in the input.
    seq.sort((a, b) => a.occurredAt - b.occurredAt);
    await s.produceJson(seq);
    await runUntilCaughtUp();
    const out = await s.readAll('behavior.events');
    for (const m of ['gus', 'hal']) {
      const got = out.filter((r) => r.key?.toString() === m).map((r) => value(r).sourceEventId);
      expect(got).toEqual(Array.from({ length: 25 }, (_, i) => `o-${m}-${i}`));
    }
  });

  it("accepts Confluent-framed Avro input and re-keys a referral to the referrer's partition", async () => {
    const signup = { eventId: 'av-1', userId: 'ivy', type: 'signup', occurredAt: t0, referrerId: 'ann', source: 'web' };
    const framed = await s.clients.codec.encode('activity.events', {
      ...Object.fromEntries(
        [
          'referrerId',
          'amountFen',
          'itemId',
          'category',
          'plan',
          'periodEnd',
          'refundOf',
          'seconds',
          'points',
          'rewardId',
          'redeemOf',
        ].map((k) => [k, null]),
      ),
      ...signup,
    });
    expect(framed[0]).toBe(0);
    await s.produce('activity.events', [{ key: 'ivy', value: framed }]);
    await runUntilCaughtUp();
    const out = await s.readAll('behavior.events');
    const referral = out.find((r) => r.id === 'ref:av-1')!;
    expect(referral).toBeDefined();
    expect(referral.key?.toString()).toBe('ann');
    expect(value(referral)).toMatchObject({ type: 'referral', userId: 'ann', referredUserId: 'ivy' });
    const annsOwn = out.find((r) => r.key?.toString() === 'ann' && r.id !== 'ref:av-1')!;
    expect(referral.partition).toBe(annsOwn.partition);
    expect(out.find((r) => r.id === 'bhv:av-1')?.key?.toString()).toBe('ivy');
  });

  it('a stop while a batch is between its state write and its offset commit still commits that batch', async () => {
    // One member, so the twelve inputs are one partition and one batch; it waits 3 s after writing its
    // state, and the worker is stopped meanwhile (a shutdown, or a promote moving the live pointer).
    await s.produceJson(purchases(['kim'], 12, 'stop'));
    running = await s.startWorker(worker, { failpoint: 'pause-after-state-write:1:3000' });
    await waitFor(async () => (await store.state('kim'))?.purchaseCount === 12, 60_000, 'the batch to write its state');
    await running.stop();
    running = undefined;
    // Uncommitted, the batch would be handed to whoever reads next: after a promote, the new
    // generation would publish its outputs again, decided under other rules.
    expect(await s.lag(worker, 'activity.events')).toBe(0);
    const out = await s.readAll('behavior.events', { minRecords: 1 });
    expect(
      out
        .filter((r) => value(r).userId === 'kim')
        .map((r) => r.id)
        .sort(),
    ).toEqual(Array.from({ length: 12 }, (_, i) => `bhv:stop-kim-${i}`).sort());
  });
});
