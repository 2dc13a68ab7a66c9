import { KafkaJSProtocolError } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { waitForTopicLeaders } from '../../shared/kafka/topic-leaders.js';

type Meta = Awaited<ReturnType<Parameters<typeof waitForTopicLeaders>[0]['fetchTopicMetadata']>>;

/** kafkajs' broker error as its protocol layer builds it (its typings omit the constructor's arguments). */
const brokerError = (type: string): Error =>
  new (KafkaJSProtocolError as unknown as new (e: object) => Error)({
    type,
    code: 3,
    retriable: false,
    message: 'This server does not host this topic-partition',
  });

const partition = (id: number, leader: number) => ({
  partitionId: id,
  leader,
  replicas: [1],
  isr: [1],
  offlineReplicas: [],
  partitionErrorCode: 0,
});

/** A metadata source answering one scripted reply per call, the last one for ever after. */
function scripted(replies: (Meta | Error)[]) {
  let calls = 0;
  return {
    get calls() {
      return calls;
    },
    fetchTopicMetadata: () => {
      const reply = replies[Math.min(calls++, replies.length - 1)]!;
      return reply instanceof Error ? Promise.reject(reply) : Promise.resolve(reply);
    },
  };
}

const fastClock = () => {
  let t = 0;
  return { now: () => t, sleep: (ms: number) => ((t += ms), Promise.resolve()) };
};

describe('waiting for the leaders of new topics', () => {
  it('waits through a broker that does not know the topic yet, then through leaderless partitions', async () => {
    const source = scripted([
      brokerError('UNKNOWN_TOPIC_OR_PARTITION'),
      brokerError('LEADER_NOT_AVAILABLE'),
      { topics: [{ name: 'a', partitions: [partition(0, 1), partition(1, -1)] }] },
      { topics: [{ name: 'a', partitions: [partition(0, 1), partition(1, 1)] }] },
    ]);
    await waitForTopicLeaders(source, ['a'], fastClock());
    expect(source.calls).toBe(4);
  });

  it('fails with the topic it waited for once the time is up', async () => {
    const source = scripted([{ topics: [{ name: 'a', partitions: [partition(0, -1)] }] }]);
    await expect(waitForTopicLeaders(source, ['a'], { ...fastClock(), timeoutMs: 1_000 })).rejects.toThrow(
      /no a leader for every partition of a after 1000 ms/,
    );
    expect(source.calls).toBeGreaterThan(5);
  });

  it('does not wait on an error the broker will give again', async () => {
    const source = scripted([brokerError('TOPIC_AUTHORIZATION_FAILED')]);
    await expect(waitForTopicLeaders(source, ['a'], fastClock())).rejects.toThrow(/does not host/);
    expect(source.calls).toBe(1);
  });
});
