import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

// kafkajs' own send path, as installed (scripts/patch-kafkajs.mjs fixes its retry after npm ci).
const require = createRequire(import.meta.url);
type Send = (req: {
  acks: number;
  timeout: number;
  topicMessages: { topic: string; messages: { key: string; value: string; partition: number }[] }[];
}) => Promise<unknown[]>;
const createSendMessages = require('kafkajs/src/producer/sendMessages.js') as (deps: Record<string, unknown>) => Send;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A broker that answers each produce after `delayMs`, failing the first `failures` of them with a retriable error. */
function broker(nodeId: number, delayMs: number, failures: number) {
  const writes: number[][] = [];
  return {
    nodeId,
    writes,
    async produce({
      topicData,
    }: {
      topicData: { topic: string; partitions: { partition: number; messages: unknown[] }[] }[];
    }) {
      await sleep(delayMs);
      if (failures-- > 0)
        throw Object.assign(new Error('leader moved'), {
          name: 'KafkaJSProtocolError',
          type: 'NOT_LEADER_FOR_PARTITION',
          retriable: true,
        });
      writes.push(topicData.flatMap((t) => t.partitions.map((p) => p.partition)));
      return {
        topics: topicData.map((t) => ({
          topicName: t.topic,
          partitions: t.partitions.map((p) => ({ partition: p.partition, errorCode: 0, baseOffset: '0' })),
        })),
      };
    },
  };
}

describe('kafkajs send to several brokers (patched)', () => {
  it('retries only the broker that failed, after the others answered: no partition is written twice', async () => {
    // Partition 0 leads on a slow broker, partition 1 on one that fails its first request quickly.
    const slow = broker(1, 100, 0);
    const failing = broker(2, 5, 1);
    const brokers = new Map([
      [1, slow],
      [2, failing],
    ]);
    const leaders: Record<string, number> = { '0': 1, '1': 2 };
    const send = createSendMessages({
      logger: { debug() {}, error() {} },
      cluster: {
        refreshMetadataIfNecessary: () => Promise.resolve(),
        refreshMetadata: () => Promise.resolve(),
        addMultipleTargetTopics: () => Promise.resolve(),
        isConnected: () => true,
        removeBroker() {},
        findTopicPartitionMetadata: () => [
          { partitionId: 0, leader: 1 },
          { partitionId: 1, leader: 2 },
        ],
        findLeaderForPartitions: (_topic: string, partitions: string[]) => {
          const out: Record<number, number[]> = {};
          for (const p of partitions) (out[leaders[p]!] ??= []).push(Number(p));
          return out;
        },
        findBroker: ({ nodeId }: { nodeId: string }) => Promise.resolve(brokers.get(Number(nodeId))),
      },
      partitioner: ({ message }: { message: { partition: number } }) => message.partition,
      eosManager: {
        acquireBrokerLock: () => Promise.resolve(),
        releaseBrokerLock: () => Promise.resolve(),
        isTransactional: () => false,
        getSequence: () => 0,
        updateSequence() {},
        getProducerId: () => -1,
        getProducerEpoch: () => 0,
      },
      retrier: async (fn: (bail: (e: Error) => never, retryCount: number, retryTime: number) => Promise<unknown[]>) => {
        for (let attempt = 0; ; attempt++) {
          try {
            return await fn(
              (e) => {
                throw e;
              },
              attempt,
              0,
            );
          } catch (err) {
            if (attempt >= 5) throw err;
          }
        }
      },
    });
    const acknowledged = await send({
      acks: -1,
      timeout: 30_000,
      topicMessages: [
        {
          topic: 't',
          messages: [
            { key: 'a', value: 'x', partition: 0 },
            { key: 'b', value: 'y', partition: 1 },
          ],
        },
      ],
    });
    expect(slow.writes).toEqual([[0]]);
    expect(failing.writes).toEqual([[1]]);
    expect(acknowledged).toHaveLength(2);
  });
});
