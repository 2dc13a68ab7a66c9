import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readToEnd } from '../../shared/kafka/read-to-end.js';
import { PartitionTransactions } from '../../shared/kafka/transactions.js';
import { TestStack } from '../support/harness.js';

/** The per-partition transactions of the worker runtime, against the real broker. */
describe('partition transactions: one owner per input partition, fenced by its transactional.id', () => {
  let s: TestStack;
  const owners: PartitionTransactions[] = [];
  const owner = (group: string) => {
    const o = new PartitionTransactions(s.clients.kafka, group, s.log, 10_000);
    o.joined();
    owners.push(o);
    return o;
  };
  beforeAll(async () => {
    s = await TestStack.create('txn', { partitions: 1 });
  });
  afterAll(async () => {
    for (const o of owners) await o.close();
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when beforeAll failed
    await s?.close();
  });

  /** Values of `topic` a read_committed reader sees, and how far it got. */
  async function committedValues(topic: string): Promise<string[]> {
    const values: string[] = [];
    await readToEnd(s.clients.kafka, topic, `${s.ns}.check`, (_, m) => void values.push(m.value!.toString()), {
      timeoutMs: 60_000,
    });
    return values;
  }

  it('commits outputs with the next offset; the next owner reads that offset only after fencing, and the old owner can no longer commit', async () => {
    const group = `${s.ns}.g1`;
    const input = s.topic('activity.events');
    const output = s.topic('behavior.events');
    const first = owner(group);
    const t1 = await first.begin(input, 0);
    expect(t1.committed).toBeNull();
    await t1.sender.send({ topic: output, messages: [{ key: 'm', value: 'first-committed' }] });
    await first.commit(input, 0, '5');

    // The first owner starts its next batch, then stalls (a zombie); a second owner takes the partition.
    const zombie = await first.begin(input, 0);
    await zombie.sender.send({ topic: output, messages: [{ key: 'm', value: 'zombie' }] });
    const second = owner(group);
    const t2 = await second.begin(input, 0);
    expect(t2.committed).toBe('5');
    await t2.sender.send({ topic: output, messages: [{ key: 'm', value: 'second' }] });
    await second.commit(input, 0, '9');

    await expect(first.commit(input, 0, '9')).rejects.toThrow();
    expect(await committedValues(output)).toEqual(['first-committed', 'second']);
    const [offsets] = await s.admin.fetchOffsets({ groupId: group, topics: [input] });
    expect(offsets!.partitions[0]!.offset).toBe('9');
  });

  it('a batch given up leaves nothing a read_committed reader sees, and the producer takes the next batch', async () => {
    const group = `${s.ns}.g2`;
    const input = s.topic('points.ledger');
    const output = s.topic('member.tiers');
    const o = owner(group);
    const given = await o.begin(input, 0);
    await given.sender.send({ topic: output, messages: [{ key: 'm', value: 'aborted' }] });
    await o.abort(input, 0, { keepProducer: true });
    const next = await o.begin(input, 0);
    expect(next.committed).toBeNull();
    await next.sender.send({ topic: output, messages: [{ key: 'm', value: 'kept' }] });
    await o.commit(input, 0, '1');
    // The partition ends in a commit marker after an abort marker: the reader still gets to its end.
    expect(await committedValues(output)).toEqual(['kept']);
    const ends = await s.admin.fetchTopicOffsets(output);
    expect(Number(ends[0]!.high)).toBeGreaterThan(2);
  });

  it('back-to-back batches with no outputs commit at once: the coordinator still finishing the last one is waited for', async () => {
    // A batch of inputs that produce nothing (most of tier-evaluation's) is a transaction of offsets alone. Started right
    // after the previous commit, its AddOffsetsToTxn often meets CONCURRENT_TRANSACTIONS: kafkajs does not retry that
    // there, and each refusal cost the partition a new producer and the batch again.
    const group = `${s.ns}.g3`;
    const input = s.topic('behavior.events');
    const o = owner(group);
    let failed = 0;
    for (let i = 1; i <= 100; i++) {
      await o.begin(input, 0);
      await o.commit(input, 0, String(i)).catch(() => failed++);
    }
    expect(failed, 'offset-only transactions that failed').toBe(0);
    const [offsets] = await s.admin.fetchOffsets({ groupId: group, topics: [input] });
    expect(offsets!.partitions[0]!.offset).toBe('100');
  });
});
