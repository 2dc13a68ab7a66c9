import { describe, expect, it } from 'vitest';
import { partitionOfKey, twiceAcknowledgedPartitions, unacknowledgedPartitions } from '../../shared/kafka/client.js';

describe('publisher: every partition written is acknowledged', () => {
  const sent = [
    { topic: 'ns.behavior.events', messages: [{ partition: 0 }, { partition: 2 }, { partition: 2 }] },
    { topic: 'ns.activity.dlq', messages: [{ partition: 1 }] },
  ];

  it('names the partitions no reply covers, once each', () => {
    const replies = [{ topicName: 'ns.behavior.events', partition: 0, errorCode: 0 }];
    expect(unacknowledgedPartitions(sent, replies).sort()).toEqual(['ns.activity.dlq#1', 'ns.behavior.events#2']);
  });

  it('counts a reply with an error code as no acknowledgement, and finds nothing missing when all replied', () => {
    const all = [
      { topicName: 'ns.behavior.events', partition: 0, errorCode: 0 },
      { topicName: 'ns.behavior.events', partition: 2, errorCode: 0 },
      { topicName: 'ns.activity.dlq', partition: 1, errorCode: 0 },
    ];
    expect(unacknowledgedPartitions(sent, all)).toEqual([]);
    expect(
      unacknowledgedPartitions(
        sent,
        all.map((r, i) => (i === 2 ? { ...r, errorCode: 6 } : r)),
      ),
    ).toEqual(['ns.activity.dlq#1']);
  });

  it('names a partition two replies acknowledged (a retry sent it again to a new leader), and no other', () => {
    const replies = [
      { topicName: 'ns.member.tier-changes', partition: 3, errorCode: 0 },
      { topicName: 'ns.member.tiers', partition: 3, errorCode: 0 },
      { topicName: 'ns.member.tier-changes', partition: 3, errorCode: 0 },
      { topicName: 'ns.member.tiers', partition: 4, errorCode: 6 },
      { topicName: 'ns.member.tiers', partition: 4, errorCode: 0 },
    ];
    expect(twiceAcknowledgedPartitions(replies)).toEqual(['ns.member.tier-changes#3']);
    expect(twiceAcknowledgedPartitions(replies.slice(0, 2))).toEqual([]);
  });

  it('places a key as the default partitioner does: the same key, the same partition, spread over all', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const p = partitionOfKey('t', `m${i}`, 6);
      expect(p).toBe(partitionOfKey('t', `m${i}`, 6));
      seen.add(p);
    }
    expect([...seen].sort()).toEqual([0, 1, 2, 3, 4, 5]);
  });
});

describe('publisher: a refused producer state is recognised', () => {
  it('finds the broker code anywhere in the cause chain, and nothing else', async () => {
    const { isProducerStateError } = await import('../../shared/kafka/client.js');
    const protocol = Object.assign(new Error('out of order'), { type: 'OUT_OF_ORDER_SEQUENCE_NUMBER' });
    expect(isProducerStateError(Object.assign(new Error('gave up'), { cause: protocol }))).toBe(true);
    expect(isProducerStateError(Object.assign(new Error('x'), { type: 'UNKNOWN_PRODUCER_ID' }))).toBe(true);
    expect(isProducerStateError(Object.assign(new Error('x'), { type: 'NOT_LEADER_FOR_PARTITION' }))).toBe(false);
    expect(isProducerStateError(new Error('plain'))).toBe(false);
  });
});
